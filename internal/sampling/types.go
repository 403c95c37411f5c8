package sampling

// Wire shapes of the X-Ray sampling operations, field for field as
// aws-sdk-go-v2 service/xray (de)serialises them. Timestamps are epoch
// seconds as JSON numbers.

// Rule is a sampling rule (SamplingRule).
type Rule struct {
	RuleName      string            `json:"RuleName"`
	RuleARN       string            `json:"RuleARN"`
	ResourceARN   string            `json:"ResourceARN"`
	Priority      int32             `json:"Priority"`
	FixedRate     float64           `json:"FixedRate"`
	ReservoirSize int32             `json:"ReservoirSize"`
	ServiceName   string            `json:"ServiceName"`
	ServiceType   string            `json:"ServiceType"`
	Host          string            `json:"Host"`
	HTTPMethod    string            `json:"HTTPMethod"`
	URLPath       string            `json:"URLPath"`
	Version       int32             `json:"Version"`
	Attributes    map[string]string `json:"Attributes,omitempty"`
}

// RuleRecord is a rule with its timestamps (SamplingRuleRecord).
type RuleRecord struct {
	CreatedAt    float64 `json:"CreatedAt"`
	ModifiedAt   float64 `json:"ModifiedAt"`
	SamplingRule Rule    `json:"SamplingRule"`
}

// ruleInput is CreateSamplingRule's SamplingRule: pointers tell a missing
// field from a zero one.
type ruleInput struct {
	RuleName      *string           `json:"RuleName"`
	RuleARN       *string           `json:"RuleARN"`
	ResourceARN   *string           `json:"ResourceARN"`
	Priority      *int32            `json:"Priority"`
	FixedRate     *float64          `json:"FixedRate"`
	ReservoirSize *int32            `json:"ReservoirSize"`
	ServiceName   *string           `json:"ServiceName"`
	ServiceType   *string           `json:"ServiceType"`
	Host          *string           `json:"Host"`
	HTTPMethod    *string           `json:"HTTPMethod"`
	URLPath       *string           `json:"URLPath"`
	Version       *int32            `json:"Version"`
	Attributes    map[string]string `json:"Attributes"`
}

// ruleUpdate is UpdateSamplingRule's SamplingRuleUpdate (no Version).
type ruleUpdate struct {
	RuleName      *string           `json:"RuleName"`
	RuleARN       *string           `json:"RuleARN"`
	ResourceARN   *string           `json:"ResourceARN"`
	Priority      *int32            `json:"Priority"`
	FixedRate     *float64          `json:"FixedRate"`
	ReservoirSize *int32            `json:"ReservoirSize"`
	ServiceName   *string           `json:"ServiceName"`
	ServiceType   *string           `json:"ServiceType"`
	Host          *string           `json:"Host"`
	HTTPMethod    *string           `json:"HTTPMethod"`
	URLPath       *string           `json:"URLPath"`
	Attributes    map[string]string `json:"Attributes"`
}

// StatisticsDocument is one SamplingStatisticsDocument an SDK reports.
type StatisticsDocument struct {
	RuleName     string  `json:"RuleName"`
	ClientID     string  `json:"ClientID"`
	Timestamp    float64 `json:"Timestamp"`
	RequestCount int32   `json:"RequestCount"`
	SampledCount int32   `json:"SampledCount"`
	BorrowCount  int32   `json:"BorrowCount"`
}

// TargetDocument is one SamplingTargetDocument.
type TargetDocument struct {
	RuleName          string  `json:"RuleName"`
	FixedRate         float64 `json:"FixedRate"`
	ReservoirQuota    *int32  `json:"ReservoirQuota,omitempty"`
	ReservoirQuotaTTL float64 `json:"ReservoirQuotaTTL,omitempty"`
	Interval          int32   `json:"Interval"`
}

// UnprocessedStatistics reports a statistics document that was not used.
// ErrorCode is an HTTP-like status: the SDKs re-fetch rules on "4xx".
type UnprocessedStatistics struct {
	RuleName  string `json:"RuleName"`
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
}

// TargetsInput is GetSamplingTargets' input.
type TargetsInput struct {
	SamplingStatisticsDocuments []StatisticsDocument `json:"SamplingStatisticsDocuments"`
}

// TargetsOutput is GetSamplingTargets' output.
type TargetsOutput struct {
	SamplingTargetDocuments []TargetDocument        `json:"SamplingTargetDocuments"`
	LastRuleModification    float64                 `json:"LastRuleModification"`
	UnprocessedStatistics   []UnprocessedStatistics `json:"UnprocessedStatistics"`
}

// RulesOutput is GetSamplingRules' output.
type RulesOutput struct {
	SamplingRuleRecords []RuleRecord `json:"SamplingRuleRecords"`
	NextToken           *string      `json:"NextToken,omitempty"`
}

// StatisticSummary is one SamplingStatisticSummary.
type StatisticSummary struct {
	RuleName     string  `json:"RuleName"`
	Timestamp    float64 `json:"Timestamp"`
	RequestCount int32   `json:"RequestCount"`
	SampledCount int32   `json:"SampledCount"`
	BorrowCount  int32   `json:"BorrowCount"`
}

// StatisticSummariesOutput is GetSamplingStatisticSummaries' output.
type StatisticSummariesOutput struct {
	SamplingStatisticSummaries []StatisticSummary `json:"SamplingStatisticSummaries"`
	NextToken                  *string            `json:"NextToken,omitempty"`
}
