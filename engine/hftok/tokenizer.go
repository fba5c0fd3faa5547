package hftok

import (
	"strings"

	"parascope/engine/infile"
)

// Tokenizer is a loaded tokenizer.json. It is safe for concurrent use.
type Tokenizer struct {
	model   *BPE
	norm    normalizer    // nil when the file has none
	pre     preTokenizer  // nil when the file has none
	post    postProcessor // nil when the file has none
	decoder decoder       // nil joins tokens with spaces

	added     []*AddedToken
	addedByID map[int]*AddedToken
	raw       *matcher // added tokens matched on the input as given
	normed    *matcher // added tokens matched after normalization
}

// Load reads a tokenizer.json file.
func Load(path string) (*Tokenizer, error) {
	// Real files are 2 to 20 MB; the cap keeps a device or a wrong file
	// from being read without end.
	data, err := infile.Read(path, 256<<20, "a tokenizer.json")
	if err != nil {
		return nil, err
	}
	t, err := Parse(data)
	if err != nil {
		return nil, infile.In(path, err)
	}
	return t, nil
}

// Parse reads the contents of a tokenizer.json.
func Parse(data []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := infile.DecodeJSON(data, &f, false); err != nil {
		return nil, err
	}
	t := &Tokenizer{addedByID: map[int]*AddedToken{}}
	var err error
	if t.model, err = parseModel(f.Model); err != nil {
		return nil, err
	}
	if t.norm, err = parseNormalizer("normalizer", f.Normalizer); err != nil {
		return nil, err
	}
	if t.pre, err = parsePreTokenizer("pre_tokenizer", f.PreTokenizer); err != nil {
		return nil, err
	}
	if t.post, err = parsePostProcessor("post_processor", f.PostProcessor); err != nil {
		return nil, err
	}
	if t.decoder, err = parseDecoder("decoder", f.Decoder); err != nil {
		return nil, err
	}
	var raw, normed []*AddedToken
	for i := range f.AddedTokens {
		a := &f.AddedTokens[i]
		a.ID = t.addedID(a.Content)
		t.added = append(t.added, a)
		t.addedByID[a.ID] = a
		if a.Normalized {
			normed = append(normed, a)
		} else {
			raw = append(raw, a)
		}
	}
	t.raw = newMatcher(raw, func(a *AddedToken) string { return a.Content })
	// A normalized token is looked for in normalized text, so its pattern
	// is its content normalized the same way.
	t.normed = newMatcher(normed, func(a *AddedToken) string { return t.normalize(a.Content) })
	return t, nil
}

// addedID is the id the Rust library gives an added token, whatever the
// file says: the vocabulary's id for a string it holds, else the next id
// after the vocabulary and the tokens added so far.
func (t *Tokenizer) addedID(content string) int {
	if id, ok := t.TokenID(content); ok {
		return id
	}
	next := len(t.model.vocab)
	for id := range t.addedByID {
		next = max(next, id+1)
	}
	return next
}

func (t *Tokenizer) normalize(s string) string {
	if t.norm == nil {
		return s
	}
	return t.norm.normalize(s)
}

// Encode returns the ids of text; addSpecial runs the post-processor,
// which adds the tokens a model expects around a sequence.
func (t *Tokenizer) Encode(text string, addSpecial bool) []int {
	var ids []int
	for _, p := range t.raw.split(text, true) {
		if p.tok != nil {
			ids = append(ids, p.tok.ID)
			continue
		}
		for _, q := range t.normed.split(t.normalize(p.text), p.atStart) {
			if q.tok != nil {
				ids = append(ids, q.tok.ID)
				continue
			}
			words := []word{{q.text, q.atStart}}
			if t.pre != nil {
				words = t.pre.preTokenize(words)
			}
			for _, w := range words {
				ids = t.model.tokenize(w.text, ids)
			}
		}
	}
	if addSpecial && t.post != nil {
		ids = t.post.process(ids)
	}
	return ids
}

// Decode returns the text of ids; skipSpecial leaves out special added
// tokens. Ids the tokenizer does not know are skipped.
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) string {
	tokens := make([]string, 0, len(ids))
	for _, id := range ids {
		if a, ok := t.addedByID[id]; ok {
			if !(skipSpecial && a.Special) {
				tokens = append(tokens, a.Content)
			}
			continue
		}
		if tok, ok := t.model.token(id); ok {
			tokens = append(tokens, tok)
		}
	}
	if t.decoder == nil {
		return strings.Join(tokens, " ")
	}
	return strings.Join(t.decoder.decode(tokens), "")
}

// TokenID is the id of a token string, added tokens first.
func (t *Tokenizer) TokenID(token string) (int, bool) {
	for _, a := range t.added {
		if a.Content == token {
			return a.ID, true
		}
	}
	id, ok := t.model.vocab[token]
	return id, ok
}

// VocabSize is one more than the largest id.
func (t *Tokenizer) VocabSize() int {
	n := len(t.model.tokens)
	for id := range t.addedByID {
		n = max(n, id+1)
	}
	return n
}

// TokenBytes is what id stands for before decoding joins tokens into
// text: for a tokenizer whose decoder is ByteLevel, the token's bytes
// (possibly part of a character) or an added token's content. ok is
// false for an unknown id or another decoder, where only Decode speaks.
func (t *Tokenizer) TokenBytes(id int) (b []byte, ok bool) {
	if _, byteLevel := t.decoder.(byteLevelDecoder); !byteLevel {
		return nil, false
	}
	if a, ok := t.addedByID[id]; ok {
		return []byte(a.Content), true
	}
	tok, ok := t.model.token(id)
	if !ok {
		return nil, false
	}
	return appendByteLevel(nil, tok), true
}
