//go:build linux

package model

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"parascope/engine/hf"
	"parascope/engine/nn"
)

// llada8B is LLaDA-8B-Instruct's shape, as its config.json gives it.
var llada8B = hf.Config{DModel: 4096, Layers: 32, Heads: 32, KVHeads: 32, MLP: 12288, Vocab: 126464, Embedding: 126464,
	RopeTheta: 500000, NormEps: 1e-5, MaxLen: 4096}

// BenchmarkEightBillion opens an LLaDA-8B-shaped bfloat16 folder and runs
// one forward over 512 tokens, with logits at a quarter of them over the
// whole vocabulary, and reports the time to open, the forward's time and
// the process's peak resident memory. The folder is $PARASCOPE_8B_DIR; when
// it holds no config.json, the benchmark first writes one there with
// random weights (16 GB of disk). Run it alone, as
// engine/model/reference/eight_b.sh does; without the variable it skips.
func BenchmarkEightBillion(b *testing.B) {
	dir := os.Getenv("PARASCOPE_8B_DIR")
	if dir == "" {
		b.Skip("set PARASCOPE_8B_DIR to a folder for the 16 GB checkpoint")
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		start := time.Now()
		if err := write8B(dir, llada8B); err != nil {
			b.Fatal(err)
		}
		b.Logf("wrote %s in %v", dir, time.Since(start).Round(time.Second))
	}
	ids, sel := spread(512, llada8B.Vocab, 4)
	for b.Loop() {
		start := time.Now()
		m, err := Load(dir, nn.CPU{})
		if err != nil {
			b.Fatal(err)
		}
		opened := time.Since(start)
		if _, err := m.Logits(ids, 1, len(ids), sel); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(opened.Seconds(), "open-s")
		b.ReportMetric((time.Since(start) - opened).Seconds(), "forward-s")
		m.Close()
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(ru.Maxrss)/(1<<20), "peak-RSS-GB") // Linux reports KiB
}

// write8B writes a sharded bfloat16 folder of config c, the way
// save_pretrained lays LLaDA out, with random weights: matrices of values
// ±[2⁻⁷, 2⁻⁶), gains 1. Four blocks to a shard, streamed to disk.
func write8B(dir string, c hf.Config) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg := map[string]any{"architectures": []string{"LLaDAModelLM"}, "model_type": "llada", "d_model": c.DModel,
		"n_heads": c.Heads, "n_kv_heads": c.KVHeads, "n_layers": c.Layers, "mlp_hidden_size": c.MLP,
		"vocab_size": c.Vocab, "embedding_size": c.Embedding, "rope_theta": c.RopeTheta, "rms_norm_eps": c.NormEps,
		"max_sequence_length": c.MaxLen, "weight_tying": false, "block_type": "llama", "activation_type": "silu",
		"layer_norm_type": "rms", "rope": true, "include_bias": false, "torch_dtype": "bfloat16",
		"mask_token_id": 126336, "eos_token_id": 126081, "pad_token_id": 126081}
	var shards [][]hf.Expected
	for _, e := range hf.Layout(c) {
		var layer int
		if _, err := fmt.Sscanf(e.Name, "model.transformer.blocks.%d.", &layer); err != nil {
			layer = c.Layers - 1 // wte goes with block 0, ln_f and the head with the last
			if e.Name == hf.Embedding {
				layer = 0
			}
		}
		for len(shards) <= layer/4 {
			shards = append(shards, nil)
		}
		shards[layer/4] = append(shards[layer/4], e)
	}
	weightMap, total := map[string]string{}, 0
	r := rand.New(rand.NewPCG(8, 8))
	for i, shard := range shards {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		n, err := writeShard(filepath.Join(dir, name), shard, r)
		if err != nil {
			return err
		}
		total += n
		for _, e := range shard {
			weightMap[e.Name] = name
		}
	}
	index, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": total}, "weight_map": weightMap})
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), index, 0o644); err != nil {
		return err
	}
	data, _ := json.Marshal(cfg)
	return os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644) // last: its presence means done
}

// writeShard streams one safetensors file of random bfloat16 tensors and
// returns its data size.
func writeShard(path string, tensors []hf.Expected, r *rand.Rand) (int, error) {
	header, off := map[string]any{"__metadata__": map[string]string{"format": "pt"}}, 0
	for _, e := range tensors {
		n := 2
		for _, d := range e.Shape {
			n *= d
		}
		header[e.Name] = map[string]any{"dtype": "BF16", "shape": e.Shape, "data_offsets": []int{off, off + n}}
		off += n
	}
	js, _ := json.Marshal(header)
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	binary.Write(w, binary.LittleEndian, uint64(len(js)))
	w.Write(js)
	var word [8]byte
	for _, e := range tensors {
		n := 1
		for _, d := range e.Shape {
			n *= d
		}
		gain := len(e.Shape) == 1
		for i := 0; i < n; i += 4 {
			x := r.Uint64()
			for j := range 4 {
				h := uint16(0x3f80) // 1
				if !gain {
					h = 0x3c00 | uint16(x>>(16*j))&0x807f
				}
				binary.LittleEndian.PutUint16(word[2*j:], h)
			}
			w.Write(word[:2*min(4, n-i)])
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	return off, f.Close()
}
