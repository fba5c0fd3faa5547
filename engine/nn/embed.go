package nn

// ---- Embedding: out[i] = table[ids[i]] -------------------------------------

func embedForward(out, table []float32, ids []int32, d int) {
	for i, id := range ids {
		copy(out[i*d:(i+1)*d], table[int(id)*d:(int(id)+1)*d])
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
