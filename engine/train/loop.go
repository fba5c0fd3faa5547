package train

import (
	"context"
	"errors"
	"time"
)

// stepTiming is what a job's progress report needs of the clock.
type stepTiming struct {
	done       int           // steps taken in this session
	elapsed    time.Duration // this session's time
	eta        time.Duration
	checkpoint string // the checkpoint written after this step, if any
}

// runSteps drives a job until *step reaches steps: work takes step *step
// and returns how to report it; runSteps counts the step, keeps *elapsed
// (training time across resumes), writes a checkpoint every `every` steps
// and after the last, and when ctx is cancelled writes one and returns
// ctx's error.
func runSteps(ctx context.Context, step *int, steps, every int, elapsed *time.Duration, checkpoint func() (string, error),
	work func() (report func(stepTiming), err error)) error {
	began, start, before := time.Now(), *step, *elapsed
	defer func() { *elapsed = before + time.Since(began) }()
	for *step < steps {
		if err := ctx.Err(); err != nil {
			if _, cerr := checkpoint(); cerr != nil {
				return errors.Join(err, cerr)
			}
			return err
		}
		report, err := work()
		if err != nil {
			return err
		}
		*step++
		t := stepTiming{done: *step - start, elapsed: time.Since(began)}
		*elapsed = before + t.elapsed
		t.eta = time.Duration(float64(t.elapsed) / float64(t.done) * float64(steps-*step))
		if *step%every == 0 || *step == steps {
			if t.checkpoint, err = checkpoint(); err != nil {
				return err
			}
		}
		report(t)
	}
	return nil
}
