package hftok

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"golang.org/x/text/unicode/norm"

	"parascope/engine/infile"
)

// The file's components, read in two steps: a type tag, then the fields
// of that type. An unknown type is an error that names its key.

type fileJSON struct {
	AddedTokens   []AddedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         json.RawMessage `json:"model"`
}

type modelJSON struct {
	Type         string            `json:"type"`
	Vocab        map[string]int    `json:"vocab"`
	Merges       []json.RawMessage `json:"merges"`
	Unk          *string           `json:"unk_token"`
	FuseUnk      bool              `json:"fuse_unk"`
	ByteFallback bool              `json:"byte_fallback"`
	IgnoreMerges bool              `json:"ignore_merges"`
	Prefix       *string           `json:"continuing_subword_prefix"`
	Suffix       *string           `json:"end_of_word_suffix"`
	Dropout      *float64          `json:"dropout"`
}

// component holds every field any component type uses.
type component struct {
	Type           string            `json:"type"`
	Normalizers    []json.RawMessage `json:"normalizers"`
	Pretokenizers  []json.RawMessage `json:"pretokenizers"`
	Decoders       []json.RawMessage `json:"decoders"`
	Processors     []json.RawMessage `json:"processors"`
	Pattern        patternJSON       `json:"pattern"`
	Content        json.RawMessage   `json:"content"`
	Prepend        string            `json:"prepend"`
	Behavior       string            `json:"behavior"`
	Invert         bool              `json:"invert"`
	AddPrefixSpace *bool             `json:"add_prefix_space"`
	UseRegex       *bool             `json:"use_regex"`
	Replacement    string            `json:"replacement"`
	PrependScheme  string            `json:"prepend_scheme"`
	Split          *bool             `json:"split"`
	Start          int               `json:"start"`
	Stop           int               `json:"stop"`
	StripLeft      bool              `json:"left"`
	StripRight     bool              `json:"right"`
	Single         []templatePiece   `json:"single"`
	SpecialTokens  map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
}

type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

type templatePiece struct {
	SpecialToken *struct{ ID string } `json:"SpecialToken"`
	Sequence     *struct{ ID string } `json:"Sequence"`
}

// decodePart decodes one part of the file, saying what its fields want
// (infile's wording); the line it would give counts from the part, not the
// file, so it is left out.
func decodePart(raw json.RawMessage, v any) error {
	if err := infile.DecodeJSON(raw, v, false); err != nil {
		return errors.New(err.Error())
	}
	return nil
}

func readComponent(key string, raw json.RawMessage) (*component, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c component
	if err := decodePart(raw, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return &c, nil
}

func unknownType(key, typ string) error {
	return fmt.Errorf("%s: type %q is not supported", key, typ)
}

func parseNormalizer(key string, raw json.RawMessage) (normalizer, error) {
	c, err := readComponent(key, raw)
	if c == nil || err != nil {
		return nil, err
	}
	switch c.Type {
	case "NFC":
		return unicodeForm{norm.NFC}, nil
	case "NFKC":
		return unicodeForm{norm.NFKC}, nil
	case "NFD":
		return unicodeForm{norm.NFD}, nil
	case "NFKD":
		return unicodeForm{norm.NFKD}, nil
	case "Lowercase":
		return lowercase{}, nil
	case "Prepend":
		return prepend{c.Prepend}, nil
	case "Strip":
		return strip{c.StripLeft, c.StripRight}, nil
	case "Replace":
		return parseReplace(key, c)
	case "Sequence":
		seq, err := parseSeq(key+".normalizers", c.Normalizers, parseNormalizer)
		return normalizerSeq(seq), err
	}
	return nil, unknownType(key, c.Type)
}

// parseSeq parses a Sequence's parts, each named by its place under key;
// a part that is null does nothing and is left out.
func parseSeq[T comparable](key string, parts []json.RawMessage, parse func(string, json.RawMessage) (T, error)) ([]T, error) {
	var seq []T
	var none T
	for i, r := range parts {
		p, err := parse(fmt.Sprintf("%s[%d]", key, i), r)
		if err != nil {
			return nil, err
		}
		if p != none {
			seq = append(seq, p)
		}
	}
	return seq, nil
}

func parseReplace(key string, c *component) (replace, error) {
	var content string
	if err := decodePart(c.Content, &content); err != nil {
		return replace{}, fmt.Errorf("%s.content: %w", key, err)
	}
	switch {
	case c.Pattern.String != nil:
		return replace{literal: *c.Pattern.String, content: content}, nil
	case c.Pattern.Regex != nil:
		re, err := regexp.Compile(*c.Pattern.Regex)
		if err != nil {
			return replace{}, fmt.Errorf("%s.pattern: regex %q: %w", key, *c.Pattern.Regex, err)
		}
		return replace{re: re, content: content}, nil
	}
	return replace{}, fmt.Errorf("%s.pattern: neither String nor Regex", key)
}

// splitFinder compiles a Split pattern: a literal, one of the known
// lookahead patterns, or a regex Go's RE2 engine accepts.
func splitFinder(key string, p patternJSON) (finder, error) {
	switch {
	case p.String != nil:
		return literalFinder(*p.String), nil
	case p.Regex != nil:
		if sc, ok := knownPatterns[*p.Regex]; ok {
			return sc, nil
		}
		re, err := regexp.Compile(*p.Regex)
		if err != nil {
			return nil, fmt.Errorf("%s.pattern: regex %q is neither a known split pattern nor RE2: %w", key, *p.Regex, err)
		}
		return regexFinder{re}, nil
	}
	return nil, fmt.Errorf("%s.pattern: neither String nor Regex", key)
}

func parsePreTokenizer(key string, raw json.RawMessage) (preTokenizer, error) {
	c, err := readComponent(key, raw)
	if c == nil || err != nil {
		return nil, err
	}
	switch c.Type {
	case "ByteLevel":
		return byteLevel{addPrefixSpace: orTrue(c.AddPrefixSpace), useRegex: orTrue(c.UseRegex)}, nil
	case "Split":
		f, err := splitFinder(key, c.Pattern)
		if err != nil {
			return nil, err
		}
		b, ok := behaviors[c.Behavior]
		if !ok {
			return nil, fmt.Errorf("%s.behavior: %q is not supported", key, c.Behavior)
		}
		return splitter{f, b, c.Invert}, nil
	case "Metaspace":
		return metaspace{c.Replacement, prependScheme(c), c.Split == nil || *c.Split}, nil
	case "Sequence":
		seq, err := parseSeq(key+".pretokenizers", c.Pretokenizers, parsePreTokenizer)
		return preTokenizerSeq(seq), err
	}
	return nil, unknownType(key, c.Type)
}

// prependScheme reads Metaspace's scheme; older files say
// add_prefix_space instead.
func prependScheme(c *component) string {
	if c.PrependScheme != "" {
		return c.PrependScheme
	}
	if c.AddPrefixSpace != nil && !*c.AddPrefixSpace {
		return "never"
	}
	return "always"
}

func parseDecoder(key string, raw json.RawMessage) (decoder, error) {
	c, err := readComponent(key, raw)
	if c == nil || err != nil {
		return nil, err
	}
	switch c.Type {
	case "ByteLevel":
		return byteLevelDecoder{}, nil
	case "ByteFallback":
		return byteFallbackDecoder{}, nil
	case "Fuse":
		return fuseDecoder{}, nil
	case "Metaspace":
		r := []rune(c.Replacement)
		if len(r) != 1 {
			return nil, fmt.Errorf("%s.replacement: %q is not one character", key, c.Replacement)
		}
		return metaspaceDecoder{r[0], prependScheme(c)}, nil
	case "Strip":
		var content string
		if err := json.Unmarshal(c.Content, &content); err != nil || len([]rune(content)) != 1 {
			return nil, fmt.Errorf("%s.content: want one character", key)
		}
		return stripDecoder{[]rune(content)[0], c.Start, c.Stop}, nil
	case "Replace":
		r, err := parseReplace(key, c)
		return replaceDecoder{r}, err
	case "Sequence":
		seq, err := parseSeq(key+".decoders", c.Decoders, parseDecoder)
		return decoderSeq(seq), err
	}
	return nil, unknownType(key, c.Type)
}

func parsePostProcessor(key string, raw json.RawMessage) (postProcessor, error) {
	c, err := readComponent(key, raw)
	if c == nil || err != nil {
		return nil, err
	}
	switch c.Type {
	case "ByteLevel":
		return passThrough{}, nil
	case "TemplateProcessing":
		var t template
		for i, p := range c.Single {
			switch {
			case p.Sequence != nil:
				t.parts = append(t.parts, nil)
			case p.SpecialToken != nil:
				st, ok := c.SpecialTokens[p.SpecialToken.ID]
				if !ok {
					return nil, fmt.Errorf("%s.single[%d]: special token %q not in special_tokens", key, i, p.SpecialToken.ID)
				}
				t.parts = append(t.parts, append([]int{}, st.IDs...))
			}
		}
		return t, nil
	case "Sequence":
		seq, err := parseSeq(key+".processors", c.Processors, parsePostProcessor)
		return postSeq(seq), err
	}
	return nil, unknownType(key, c.Type)
}

func parseModel(raw json.RawMessage) (*BPE, error) {
	var mj modelJSON
	if err := decodePart(raw, &mj); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if mj.Type != "BPE" && mj.Type != "" {
		return nil, unknownType("model", mj.Type)
	}
	if mj.Dropout != nil && *mj.Dropout > 0 {
		return nil, fmt.Errorf("model.dropout: %v is not supported (encoding would be random)", *mj.Dropout)
	}
	merges := make([][2]string, len(mj.Merges))
	for i, r := range mj.Merges {
		var s string
		if json.Unmarshal(r, &s) == nil {
			p, ok := splitMerge(s)
			if !ok {
				return nil, fmt.Errorf("model.merges[%d]: %q has no space", i, s)
			}
			merges[i] = p
			continue
		}
		var p []string
		if err := json.Unmarshal(r, &p); err != nil || len(p) != 2 {
			return nil, fmt.Errorf("model.merges[%d]: want \"a b\" or [a, b]", i)
		}
		merges[i] = [2]string{p[0], p[1]}
	}
	m, err := newBPE(mj.Vocab, merges)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	m.unk = deref(mj.Unk)
	m.fuseUnk, m.byteFallback, m.ignoreMerges = mj.FuseUnk, mj.ByteFallback, mj.IgnoreMerges
	m.prefix, m.suffix = deref(mj.Prefix), deref(mj.Suffix)
	return m, nil
}

func orTrue(b *bool) bool { return b == nil || *b }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
