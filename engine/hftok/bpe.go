package hftok

import (
	"container/heap"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// BPE is the byte-pair-encoding model: a word starts as one symbol per
// character and adjacent pairs merge, lowest rank first, until no listed
// merge applies.
type BPE struct {
	vocab  map[string]int
	tokens []string // id → token; "" where an id has none
	merges map[[2]int]merge

	unk          string // unk_token; "" when unknown characters are dropped
	fuseUnk      bool
	byteFallback bool // unknown characters become <0xXX> tokens
	ignoreMerges bool // a word found whole in the vocabulary is one token
	prefix       string
	suffix       string

	cache  sync.Map // word → []int
	cached atomic.Int64
}

type merge struct{ rank, id int }

// cacheWords bounds the word cache, as the Rust library's does.
const cacheWords = 10000

// newBPE builds the model from its vocabulary and merges.
func newBPE(vocab map[string]int, merges [][2]string) (*BPE, error) {
	m := &BPE{vocab: vocab, merges: make(map[[2]int]merge, len(merges))}
	size := 0
	for tok, id := range vocab {
		if id < 0 {
			return nil, fmt.Errorf("vocab: %q has id %d", tok, id)
		}
		size = max(size, id+1)
	}
	// Ids index a slice; a file with far larger ids than tokens is broken
	// and would only make that slice huge. The slack admits a small
	// vocabulary that keeps a real model's ids, which sit past 2^17 for
	// multimodal ones (MMaDA's specials at 126080 and up), as test
	// fixtures do.
	if size > 2*len(vocab)+1<<18 {
		return nil, fmt.Errorf("vocab: largest id %d for %d tokens", size-1, len(vocab))
	}
	m.tokens = make([]string, size)
	for tok, id := range vocab {
		m.tokens[id] = tok
	}
	for rank, p := range merges {
		a, okA := vocab[p[0]]
		b, okB := vocab[p[1]]
		id, okC := vocab[p[0]+p[1]]
		if !okA || !okB || !okC {
			return nil, fmt.Errorf("merge %d %q %q: token not in vocab", rank, p[0], p[1])
		}
		m.merges[[2]int{a, b}] = merge{rank, id}
	}
	return m, nil
}

// tokenize appends the ids of one pre-tokenized word to ids.
func (m *BPE) tokenize(word string, ids []int) []int {
	if word == "" {
		return ids
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[word]; ok {
			return append(ids, id)
		}
	}
	if c, ok := m.cache.Load(word); ok {
		return append(ids, c.([]int)...)
	}
	out := m.mergeWord(m.symbols(word))
	if len(word) < 256 {
		m.cacheStore(word, out)
	}
	return append(ids, out...)
}

// cacheStore keeps a word's ids until the cache is full; the count is
// approximate under concurrent use, which only bounds growth.
func (m *BPE) cacheStore(word string, ids []int) {
	if m.cached.Load() >= cacheWords {
		return
	}
	m.cached.Add(1)
	m.cache.Store(word, ids)
}

// symbols splits a word into its first symbols: one per character, bytes
// or the unknown token for characters outside the vocabulary.
func (m *BPE) symbols(word string) []int {
	syms := make([]int, 0, len(word))
	lastUnk := false
	for i := 0; i < len(word); {
		_, w := utf8.DecodeRuneInString(word[i:])
		ch := word[i : i+w]
		first, last := i == 0, i+w == len(word)
		i += w
		if m.prefix != "" && !first {
			ch = m.prefix + ch
		}
		if m.suffix != "" && last {
			ch += m.suffix
		}
		if id, ok := m.vocab[ch]; ok {
			syms = append(syms, id)
			lastUnk = false
			continue
		}
		if m.byteFallback {
			if bytes, ok := m.byteTokens(word[i-w : i]); ok {
				syms = append(syms, bytes...)
				lastUnk = false
				continue
			}
		}
		unk, ok := m.vocab[m.unk]
		if m.unk == "" || !ok {
			continue
		}
		if !(m.fuseUnk && lastUnk) {
			syms = append(syms, unk)
		}
		lastUnk = true
	}
	return syms
}

// byteTokens spells s as <0xXX> tokens, if the vocabulary has them all.
func (m *BPE) byteTokens(s string) ([]int, bool) {
	ids := make([]int, 0, len(s))
	for i := 0; i < len(s); i++ {
		id, ok := m.vocab[fmt.Sprintf("<0x%02X>", s[i])]
		if !ok {
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, true
}

// mergeWord applies merges, lowest rank first and leftmost among equal
// ranks. Symbols form a linked list; the heap holds candidate pairs and
// stale ones are skipped when popped.
func (m *BPE) mergeWord(syms []int) []int {
	n := len(syms)
	if n < 2 {
		return syms
	}
	next := make([]int, n)
	prev := make([]int, n)
	alive := make([]bool, n)
	for i := range syms {
		next[i], prev[i], alive[i] = i+1, i-1, true
	}
	next[n-1] = -1
	q := pairQueue{}
	push := func(i int) {
		if i < 0 || next[i] < 0 {
			return
		}
		if mg, ok := m.merges[[2]int{syms[i], syms[next[i]]}]; ok {
			heap.Push(&q, pair{mg.rank, i, syms[i], syms[next[i]], mg.id})
		}
	}
	for i := 0; i < n-1; i++ {
		push(i)
	}
	for q.Len() > 0 {
		p := heap.Pop(&q).(pair)
		j := next[p.pos]
		if !alive[p.pos] || j < 0 || syms[p.pos] != p.left || syms[j] != p.right {
			continue
		}
		syms[p.pos] = p.id
		alive[j] = false
		next[p.pos] = next[j]
		if next[j] >= 0 {
			prev[next[j]] = p.pos
		}
		push(prev[p.pos])
		push(p.pos)
	}
	out := make([]int, 0, n)
	for i := 0; i >= 0; i = next[i] {
		out = append(out, syms[i])
	}
	return out
}

type pair struct{ rank, pos, left, right, id int }

type pairQueue []pair

func (q pairQueue) Len() int { return len(q) }
func (q pairQueue) Less(a, b int) bool {
	if q[a].rank != q[b].rank {
		return q[a].rank < q[b].rank
	}
	return q[a].pos < q[b].pos
}
func (q pairQueue) Swap(a, b int) { q[a], q[b] = q[b], q[a] }
func (q *pairQueue) Push(x any)   { *q = append(*q, x.(pair)) }
func (q *pairQueue) Pop() any {
	old := *q
	p := old[len(old)-1]
	*q = old[:len(old)-1]
	return p
}

// token is the model's token for id.
func (m *BPE) token(id int) (string, bool) {
	if id < 0 || id >= len(m.tokens) {
		return "", false
	}
	// A hole in the ids reads as "": check it maps back.
	got, ok := m.vocab[m.tokens[id]]
	return m.tokens[id], ok && got == id
}

// splitMerge reads one merges entry: "a b" or ["a", "b"].
func splitMerge(s string) ([2]string, bool) {
	a, b, ok := strings.Cut(s, " ")
	return [2]string{a, b}, ok
}
