package local

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"parascope/engine/nn"
	"parascope/engine/sample"
	"parascope/engine/session"
	"parascope/engine/world"
	"parascope/tui"
)

// Every test closes the engines it steps: no goroutine outlives Close.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// openEmbedded is an engine over the embedded model with the default
// settings, shortened.
func openEmbedded(t testing.TB) (*Engine, sample.Config) {
	t.Helper()
	cfg := sample.Defaults()
	cfg.Clip = "none"
	s, err := session.Open(cfg, nn.CPU{})
	if err != nil {
		t.Fatal(err)
	}
	e := New(s)
	t.Cleanup(func() { e.Close() })
	return e, cfg
}

// viewer is one trajectory's prompt and settings.
type viewer struct {
	cfg sample.Config
	p   sample.Prompt
}

// viewers are n trajectories of different cases and seeds; the last two,
// when n > 3, cannot share a call with the rest: a generation (a shorter
// sequence) and a run under the official rules.
func viewers(t testing.TB, e *Engine, cfg sample.Config, n int) []viewer {
	t.Helper()
	var out []viewer
	for i := range n {
		mix, c := world.MixEdit, cfg
		c.Seed = uint64(i + 1)
		switch {
		case n > 3 && i == n-2:
			mix = world.MixGen
		case n > 3 && i == n-1:
			c = c.UnderRules(sample.OfficialA)
		}
		p, err := e.sess.PromptOf(world.Generate(7, i, mix))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, viewer{c, p})
	}
	return out
}

func sameFrames(t *testing.T, what string, got, want []sample.Frame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d frames, want %d", what, len(got), len(want))
	}
	for k := range got {
		if !got[k].SameStep(want[k]) {
			t.Fatalf("%s: frame %d differs from the frame stepped alone", what, k)
		}
	}
}

// Trajectories stepped side by side through the engine, sharing model
// calls, give the frames each gives stepped alone, byte for byte, and
// return each step's frame to its own viewer.
func TestSharedStepsAreTheStepsAlone(t *testing.T) {
	e, cfg := openEmbedded(t)
	cfg.Steps = 6
	vs := viewers(t, e, cfg, 6)
	var want [][]sample.Frame
	for _, v := range vs {
		st, err := e.sess.NewStepper(v.cfg, v.p)
		if err != nil {
			t.Fatal(err)
		}
		for !st.Done() {
			if _, err := st.Step(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, st.History())
	}
	runs := make([]tui.Stepper, len(vs))
	for i, v := range vs {
		var err error
		if runs[i], err = e.Start(v.cfg, v.p); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(runs))
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !r.Done() {
				f, err := r.Step(context.Background())
				if err != nil {
					errs[i] = err
					return
				}
				if h := r.History(); !reflect.DeepEqual(f, h[len(h)-1]) {
					errs[i] = errors.New("a step returned another trajectory's frame")
					return
				}
			}
		}()
	}
	wg.Wait()
	for i, r := range runs {
		if errs[i] != nil {
			t.Fatalf("viewer %d: %v", i, errs[i])
		}
		sameFrames(t, "viewer "+string(rune('0'+i)), r.History(), want[i])
	}
	calls, steps := e.batch.modelCalls.Load(), e.batch.steps.Load()
	t.Logf("%d steps in %d model calls", steps, calls)
	if calls >= steps {
		t.Errorf("%d steps took %d model calls: none shared", steps, calls)
	}
}

// cancelledAfter is a context whose Err turns to Canceled after n looks:
// a viewer that leaves while its step is in the model call.
type cancelledAfter struct {
	context.Context
	n atomic.Int32
}

func (c *cancelledAfter) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// A viewer that has left gets no frame and costs the others nothing: one
// gone before the call is left out of it, one gone during the call has
// its frame dropped; the others' steps go on.
func TestALeavingViewerFailsNoOther(t *testing.T) {
	e, cfg := openEmbedded(t)
	cfg.Steps = 4
	vs := viewers(t, e, cfg, 3)
	var sts []*sample.Stepper
	for _, v := range vs {
		st, err := e.sess.NewStepper(v.cfg, v.p)
		if err != nil {
			t.Fatal(err)
		}
		sts = append(sts, st)
	}
	ctxGone, cancel := context.WithCancel(context.Background())
	cancel()
	during := &cancelledAfter{Context: context.Background()}
	during.n.Store(1) // alive when the batch is sorted, gone when answered
	calls := []*stepCall{
		{ctx: context.Background(), st: sts[0], reply: make(chan stepReply, 1)},
		{ctx: ctxGone, st: sts[1], reply: make(chan stepReply, 1)},
		{ctx: during, st: sts[2], reply: make(chan stepReply, 1)},
	}
	e.batch.run(calls)
	if r := <-calls[0].reply; r.err != nil || r.f.Step != 1 {
		t.Fatalf("the viewer that stayed: step %d, %v", r.f.Step, r.err)
	}
	if r := <-calls[1].reply; !errors.Is(r.err, context.Canceled) || len(sts[1].History()) != 1 {
		t.Fatalf("the viewer gone before the call: %v, %d frames", r.err, len(sts[1].History()))
	}
	if r := <-calls[2].reply; !errors.Is(r.err, context.Canceled) || r.f.Tokens != nil {
		t.Fatalf("the viewer gone during the call: %v", r.err)
	}
	if e.batch.modelCalls.Load() != 1 || e.batch.steps.Load() != 2 {
		t.Fatalf("%d steps in %d calls, want 2 in 1", e.batch.steps.Load(), e.batch.modelCalls.Load())
	}
	// Through Step: a context already gone fails at once.
	run, _ := e.Start(vs[0].cfg, vs[0].p)
	if _, err := run.Step(ctxGone); !errors.Is(err, context.Canceled) {
		t.Fatalf("a gone viewer's step: %v", err)
	}
}

// Close ends the engine's goroutine (TestMain checks none is left);
// steps after it fail, and closing twice, or never stepping, is fine.
func TestClose(t *testing.T) {
	e, cfg := open(t)
	run, err := e.Start(cfg, sample.Prompt{Task: world.ThinkGen, Instruction: "draw a big red circle at the top left"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.Close()
	e.Close()
	if _, err := run.Step(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("a step after Close: %v", err)
	}
	goleak.VerifyNone(t)
	idle, _ := open(t)
	idle.Close()
}

// A batch splits into the steps that can share a call: one task and
// model under Parascope's rules together, in the order they came; a run
// under the official rules, another task, and a second step of one
// trajectory each in a group of its own.
func TestGroups(t *testing.T) {
	e, cfg := open(t)
	edit := viewers(t, e, cfg, 4) // two edits, a generation, an official run
	var sts []*sample.Stepper
	for _, v := range append(edit, edit[0]) {
		st, err := e.sess.NewStepper(v.cfg, v.p)
		if err != nil {
			t.Fatal(err)
		}
		sts = append(sts, st)
	}
	call := func(st *sample.Stepper) *stepCall { return &stepCall{ctx: context.Background(), st: st} }
	batch := []*stepCall{call(sts[0]), call(sts[2]), call(sts[1]), call(sts[3]), call(sts[0]), call(sts[4])}
	var got [][]*sample.Stepper
	for _, g := range groups(batch) {
		var row []*sample.Stepper
		for _, c := range g {
			row = append(row, c.st)
		}
		got = append(got, row)
	}
	want := [][]*sample.Stepper{{sts[0], sts[1], sts[4]}, {sts[2]}, {sts[3]}, {sts[0]}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
}

// panicking is a model that fails as a bug would.
type panicking struct{}

func (panicking) Logits([]int32, int, int, []int32) ([]float32, error) { panic("out of range") }

// A step that panics fails its viewers' steps, not the engine: they are
// answered, and the engine steps on.
func TestAPanicFailsOnlyItsSteps(t *testing.T) {
	e, cfg := open(t)
	p := sample.Prompt{Task: world.ThinkGen, Instruction: "draw a big red circle at the top left"}
	var calls []*stepCall
	for range 2 {
		st, err := sample.New(panicking{}, e.sess.Template, cfg, p)
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, &stepCall{ctx: context.Background(), st: st, reply: make(chan stepReply, 1)})
	}
	e.batch.run(calls)
	for _, c := range calls {
		if r := <-c.reply; r.err == nil || !strings.Contains(r.err.Error(), "out of range") {
			t.Fatalf("a panicking step: %v", r.err)
		}
	}
	run, _ := e.Start(cfg, p)
	if _, err := run.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
}
