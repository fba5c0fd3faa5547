package clip

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func TestNormaliser(t *testing.T) {
	n, err := Estimate([]float64{0.1, 0.2, 0.3, 0.4, 0.5}, 2)
	if err != nil {
		t.Fatal(err)
	}
	// μ = 0.3, σ = sqrt(0.1/4) = 0.158114, Z = 2σ.
	if math.Abs(n.Mu-0.3) > 1e-12 || math.Abs(n.Sigma-0.15811388) > 1e-7 {
		t.Fatalf("%+v", n)
	}
	cases := map[float64]float64{0.3: 0.5, 0.3 + 2*n.Sigma: 1, 0.3 - 2*n.Sigma: 0, 0.3 + n.Sigma: 0.75, 5: 1, -5: 0}
	for s, want := range cases {
		if got := n.Reward(s); math.Abs(got-want) > 1e-12 {
			t.Errorf("reward(%g) = %g, want %g", s, got, want)
		}
	}
	path := filepath.Join(t.TempDir(), "reward.json")
	if err := n.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadNormaliser(path)
	if err != nil || back != n {
		t.Fatalf("%+v %v", back, err)
	}
	if _, err := Estimate([]float64{1, 1, 1}, 2); err == nil {
		t.Fatal("a constant sample has no spread")
	}
}

// A reward.json with a misspelt, missing or extra key is refused, naming
// the file: a value left at zero would skew every reward.
func TestNormaliserReadsStrictly(t *testing.T) {
	for text, want := range map[string]string{
		`{"mu": 0.6, "sigma": 0.15, "z_sigmas": 2, "samples": 10}`:              "",
		`{"mu": 0.6, "sigma": 0.15, "z_sigmas": 2, "samples": 10, "note": "x"}`: `reward.json: unknown field "note"`,
		`{"mean": 0.6, "sigma": 0.15, "z_sigmas": 2}`:                           `reward.json: unknown field "mean"`,
		`{"sigma": 0.15, "z_sigmas": 2}`:                                        `reward.json: no "mu"`,
		`{"mu": 0.6, "sigma": 0.15, "z_sigmas": 2} {}`:                          "reward.json:1: more than one JSON value",
		`{"mu": 0.6, "sigma": 0, "z_sigmas": 2}`:                                "reward.json: sigma and z_sigmas must be positive",
	} {
		_, err := decodeNormaliser([]byte(text), "reward.json")
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", text, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: got %v, want %q", text, err, want)
		}
	}
}
