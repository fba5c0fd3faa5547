package sample

import "parascope/engine/model"

// FromModel adapts the mask predictor to the sampler.
func FromModel(m *model.Model) Model { return modelAdapter{m} }

type modelAdapter struct{ m *model.Model }

func (a modelAdapter) Logits(ids []int32, batch, seq int, sel []int32) ([]float32, error) {
	t, err := a.m.Logits(ids, batch, seq, sel)
	if err != nil {
		return nil, err
	}
	return t.Data().([]float32), nil
}
