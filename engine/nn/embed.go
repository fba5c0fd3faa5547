package nn

import "parascope/engine/bf16"

// ---- Embedding: out[i] = table[ids[i]] -------------------------------------

func embedForward(out, table []float32, ids []int32, d int) {
	for i, id := range ids {
		copy(out[i*d:(i+1)*d], table[int(id)*d:(int(id)+1)*d])
	}
}

// embedBF16 is embedForward from a bfloat16 table, widened.
func embedBF16(out []float32, table []uint16, ids []int32, d int) {
	for i, id := range ids {
		dst := out[i*d : (i+1)*d]
		for j, h := range table[int(id)*d : (int(id)+1)*d] {
			dst[j] = bf16.ToF32(h)
		}
	}
}

func embedBackward(dTable, dOut []float32, ids []int32, d int) {
	for i, id := range ids {
		row, g := dTable[int(id)*d:(int(id)+1)*d], dOut[i*d:(i+1)*d]
		for j := range row {
			row[j] += g[j]
		}
	}
}

// ---- Gather / scatter of rows (logits at chosen positions) ----------------

func gather(dst, src []float32, rows []int32, d int) {
	embedForward(dst, src, rows, d)
}

func scatter(dst, src []float32, rows []int32, d int) {
	clear(dst)
	embedBackward(dst, src, rows, d)
}
