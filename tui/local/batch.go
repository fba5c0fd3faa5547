package local

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"parascope/engine/sample"
)

// batchWindow is how long the batcher waits, after a step arrives, for
// the other viewers of the last model call to send theirs, so that they
// share the next call too; steps that queued while the model was busy
// join it at once. A few milliseconds against a model call of tens: the
// latency a viewer pays for sharing, and only while a viewer it waits
// for is slow to come back.
const batchWindow = 3 * time.Millisecond

// ErrClosed is a step asked of an engine that has been closed.
var ErrClosed = errors.New("local: the engine is closed")

// stepCall is one viewer's step waiting for the model.
type stepCall struct {
	ctx   context.Context
	st    *sample.Stepper
	reply chan stepReply // buffered: the batcher never waits on a viewer
}

type stepReply struct {
	f   sample.Frame
	err error
}

// batcher runs the steps of every trajectory of an engine: one goroutine
// takes the steps that arrive together (batchWindow) and steps those that
// can share a model call (sample.CanStepWith) with one, the others one by
// one. The goroutine starts with the first step and ends with Close.
type batcher struct {
	mu    *sync.Mutex // the engine's: held while the model runs
	start sync.Once
	stop  sync.Once
	calls chan *stepCall // unbuffered: a step waits here while the model is busy
	quit  chan struct{}
	done  chan struct{}
	// modelCalls and steps count the model calls made and the steps they
	// took: steps/calls is how much the viewers shared.
	modelCalls, steps atomic.Int64
}

func newBatcher(mu *sync.Mutex) *batcher {
	return &batcher{mu: mu, calls: make(chan *stepCall), quit: make(chan struct{}), done: make(chan struct{})}
}

// step takes one step of st with the other steps waiting. It returns
// once the batcher is done with st, so that a trajectory is still
// touched by one goroutine at a time: at once when ctx ends while the
// step waits, else after the model call it is in, whose frame is then
// dropped (st's history keeps it; st belongs to the viewer that left).
func (b *batcher) step(ctx context.Context, st *sample.Stepper) (sample.Frame, error) {
	b.start.Do(func() { go b.loop() })
	c := &stepCall{ctx: ctx, st: st, reply: make(chan stepReply, 1)}
	select {
	case b.calls <- c:
	case <-ctx.Done():
		return sample.Frame{}, ctx.Err()
	case <-b.quit:
		return sample.Frame{}, ErrClosed
	}
	r := <-c.reply
	return r.f, r.err
}

// close ends the goroutine and waits for it; steps still waiting are
// answered with ErrClosed.
func (b *batcher) close() {
	b.start.Do(func() { close(b.done) }) // never started: nothing to wait for
	b.stop.Do(func() { close(b.quit) })
	<-b.done
}

func (b *batcher) loop() {
	defer close(b.done)
	// The viewers of the last two batches are those likely to come back:
	// two, so that viewers that fell out of step (one served while the
	// other waited) meet again.
	var last, before []*stepCall
	for {
		var batch []*stepCall
		select {
		case c := <-b.calls:
			batch = append(batch, c)
		case <-b.quit:
			return
		}
		// The steps that queued while the model was busy, then the window
		// for the rest of the last batches' viewers; a lone viewer never
		// waits for it.
	queued:
		for {
			select {
			case c := <-b.calls:
				batch = append(batch, c)
			default:
				break queued
			}
		}
		expect := trajectories(last, before)
		if len(batch) < expect {
			window := time.NewTimer(batchWindow)
		collect:
			for len(batch) < expect {
				select {
				case c := <-b.calls:
					batch = append(batch, c)
				case <-window.C:
					break collect
				case <-b.quit:
					window.Stop()
					for _, c := range batch {
						c.reply <- stepReply{err: ErrClosed}
					}
					return
				}
			}
			window.Stop()
		}
		last, before = batch, last
		b.run(batch)
	}
}

// trajectories counts the trajectories that the batches step.
func trajectories(batches ...[]*stepCall) int {
	seen := map[*sample.Stepper]bool{}
	for _, batch := range batches {
		for _, c := range batch {
			seen[c.st] = true
		}
	}
	return len(seen)
}

// run steps a batch: the steps of trajectories that can share a model
// call in one, the rest one by one, each viewer answered as soon as its
// own call is over.
func (b *batcher) run(batch []*stepCall) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, group := range groups(batch) {
		live := group[:0]
		for _, c := range group {
			if err := c.ctx.Err(); err != nil {
				c.reply <- stepReply{err: err} // the viewer left: not worth a row of the batch
				continue
			}
			live = append(live, c)
		}
		if len(live) > 0 {
			b.modelCalls.Add(1)
			b.steps.Add(int64(len(live)))
		}
		frames, errs := stepLive(live)
		for i, c := range live {
			answer(c, frames[i], errs[i])
		}
	}
}

// stepLive steps a group: one alone with its viewer's context, several
// in one call. A panic in the model or the sampler fails the group's
// steps, not the engine: the viewers waiting are answered all the same.
func stepLive(live []*stepCall) (frames []sample.Frame, errs []error) {
	defer func() {
		if r := recover(); r != nil {
			frames, errs = make([]sample.Frame, len(live)), make([]error, len(live))
			for i := range errs {
				errs[i] = fmt.Errorf("local: step: %v", r)
			}
		}
	}()
	switch len(live) {
	case 0:
		return nil, nil
	case 1:
		f, err := live[0].st.Step(live[0].ctx)
		return []sample.Frame{f}, []error{err}
	}
	steppers := make([]*sample.Stepper, len(live))
	for i, c := range live {
		steppers[i] = c.st
	}
	// Not any one viewer's context: one leaving must not fail the others.
	return sample.StepEach(context.Background(), steppers)
}

func answer(c *stepCall, f sample.Frame, err error) {
	if ctxErr := c.ctx.Err(); ctxErr != nil {
		f, err = sample.Frame{}, ctxErr
	}
	c.reply <- stepReply{f, err}
}

// groups splits a batch into the steps that can share a model call, in
// the order they arrived. A trajectory asked to step twice at once (not
// what a viewer does) takes its second step in a later group.
func groups(batch []*stepCall) [][]*stepCall {
	var out [][]*stepCall
	in := map[*sample.Stepper]int{} // the last group that holds each trajectory
next:
	for _, c := range batch {
		last, seen := in[c.st]
		for g, group := range out {
			if (!seen || g > last) && c.st.CanStepWith(group[0].st) {
				out[g] = append(group, c)
				in[c.st] = g
				continue next
			}
		}
		out = append(out, []*stepCall{c})
		in[c.st] = len(out) - 1
	}
	return out
}
