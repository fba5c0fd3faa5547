package hftok

import (
	"regexp"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites text before pre-tokenization.
type normalizer interface {
	normalize(s string) string
}

type unicodeForm struct{ form norm.Form }

func (n unicodeForm) normalize(s string) string { return n.form.String(s) }

type lowercase struct{}

func (lowercase) normalize(s string) string { return rustLower(s) }

// prepend adds its text in front of any non-empty input.
type prepend struct{ text string }

func (n prepend) normalize(s string) string {
	if s == "" {
		return s
	}
	return n.text + s
}

// replace swaps every match of a literal or a regex for content.
type replace struct {
	literal string
	re      *regexp.Regexp
	content string
}

func (n replace) normalize(s string) string {
	if n.re != nil {
		return n.re.ReplaceAllLiteralString(s, n.content)
	}
	if n.literal == "" {
		return s
	}
	return strings.ReplaceAll(s, n.literal, n.content)
}

// strip trims whitespace at either end.
type strip struct{ left, right bool }

func (n strip) normalize(s string) string {
	if n.left {
		s = strings.TrimLeftFunc(s, isSpace)
	}
	if n.right {
		s = strings.TrimRightFunc(s, isSpace)
	}
	return s
}

type normalizerSeq []normalizer

func (q normalizerSeq) normalize(s string) string {
	for _, n := range q {
		s = n.normalize(s)
	}
	return s
}
