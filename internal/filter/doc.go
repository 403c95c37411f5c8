// Package filter is X-Ray's filter expression language: lexer, parser, AST
// and a reference evaluator over an assembled model.Trace. It imports only
// model, so store backends can compile the AST to SQL without importing the
// query layer.
//
// Grammar (keywords, AND/OR/NOT and CONTAINS/BEGINSWITH/ENDSWITH are
// case-insensitive; "!" and NOT bind tightest, then AND, then OR; two terms
// side by side are joined with AND):
//
//	expr    = and { "OR" and }
//	and     = unary { ["AND"] unary }
//	unary   = ("!" | "NOT") unary | "(" expr ")" | term
//	term    = boolkw [("=" | "!=") bool]
//	        | numkw op number
//	        | strkw [strop string]
//	        | "annotation." key [op value] | "annotation[" key "]" [op value]
//	        | "service(" [sel] ")" [block] | "id(" idargs ")"
//	        | "edge(" sel "," sel ")" [block]
//	        | ("group.name" | "group.arn") ("=" | "!=") string
//	        | "rootcause." (fault|error|responsetime) "." (service|entity|exception) [block]
//	        | "rootcause.json" "=" "#[" json "]"
//	sel     = string | "id(" idargs ")"
//	idargs  = [ ("name" | "type" | "account.id") ":" string { "," ... } ]
//	block   = "{" [expr] "}"
//
// Bare words after an operator are strings (X-Ray's docs write
// `name = traces`). service/edge/group/rootcause may only appear at the top
// level; first/last/index/coverage/remote only inside rootcause blocks;
// annotations not inside rootcause blocks. Parse errors are *ParseError
// with a 1-based line and column. MaxInputLength and MaxDepth bound the
// work a hostile expression can cause.
//
// Evaluation semantics are documented beside each keyword in eval.go.
// rootcause.json matches by Name/Type/AccountId/Inferred of services in
// chain order and Name/Remote/Exceptions of entities by position; other
// fields are ignored (X-Ray does not document its matching rules).
package filter
