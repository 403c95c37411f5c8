package pipeline

import (
	"fmt"
	"regexp"
	"strings"
)

// PageMatcher decides whether events of a page are kept, following
// CloudWatch RUM's IncludedPages/ExcludedPages: entries are URLs or URL
// prefixes; Sightline also accepts /regexp/ entries. An empty include list
// includes everything; exclusion wins.
type PageMatcher struct {
	include []matcher
	exclude []matcher
}

type matcher func(string) bool

// NewPageMatcher compiles include and exclude lists.
func NewPageMatcher(include, exclude []string) (*PageMatcher, error) {
	inc, err := compile(include)
	if err != nil {
		return nil, fmt.Errorf("included pages: %w", err)
	}
	exc, err := compile(exclude)
	if err != nil {
		return nil, fmt.Errorf("excluded pages: %w", err)
	}
	return &PageMatcher{include: inc, exclude: exc}, nil
}

func compile(list []string) ([]matcher, error) {
	out := make([]matcher, 0, len(list))
	for _, p := range list {
		if len(p) >= 2 && strings.HasPrefix(p, "/") && strings.HasSuffix(p, "/") {
			re, err := regexp.Compile(p[1 : len(p)-1])
			if err != nil {
				return nil, fmt.Errorf("%q: %w", p, err)
			}
			out = append(out, re.MatchString)
			continue
		}
		prefix := p
		out = append(out, func(u string) bool { return strings.HasPrefix(u, prefix) })
	}
	return out, nil
}

// Keep reports whether a page (its URL, or its page id when the URL is not
// known) passes the lists. Events without a page are always kept.
func (m *PageMatcher) Keep(page string) bool {
	if m == nil || page == "" {
		return true
	}
	for _, f := range m.exclude {
		if f(page) {
			return false
		}
	}
	if len(m.include) == 0 {
		return true
	}
	for _, f := range m.include {
		if f(page) {
			return true
		}
	}
	return false
}
