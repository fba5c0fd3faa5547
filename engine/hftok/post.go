package hftok

// postProcessor adds special tokens around an encoded sequence.
type postProcessor interface {
	process(ids []int) []int
}

// passThrough is the ByteLevel post-processor: it only trims offsets,
// which this package does not report, so ids pass unchanged.
type passThrough struct{}

func (passThrough) process(ids []int) []int { return ids }

// template is TemplateProcessing's single-sequence template: the ids of
// special tokens, with the sequence where nil stands.
type template struct {
	parts [][]int // nil marks the sequence
}

func (t template) process(ids []int) []int {
	var out []int
	for _, p := range t.parts {
		if p == nil {
			out = append(out, ids...)
		} else {
			out = append(out, p...)
		}
	}
	return out
}

type postSeq []postProcessor

func (q postSeq) process(ids []int) []int {
	for _, p := range q {
		ids = p.process(ids)
	}
	return ids
}
