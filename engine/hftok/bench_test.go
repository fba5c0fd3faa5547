package hftok

import "testing"

// BenchmarkEncodeQwen3 encodes the reference corpus one string at a time;
// testdata/bench.sh runs the Rust library on the same corpus and prints
// the ratio.
func BenchmarkEncodeQwen3(b *testing.B) {
	tok := loadQwen3(b)
	recs := readDump(b, "testdata/qwen3.jsonl.gz")
	bytes := 0
	for _, r := range recs {
		bytes += len(r.Text)
	}
	b.ResetTimer()
	for b.Loop() {
		for _, r := range recs {
			tok.Encode(r.Text, true)
		}
	}
	b.ReportMetric(float64(bytes)*float64(b.N)/b.Elapsed().Seconds(), "bytes/s")
}
