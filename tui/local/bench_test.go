package local

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"parascope/engine/world"
	"parascope/tui"
)

// BenchmarkSharedEngine runs 1, 2, 4 and 8 viewers stepping without a
// pause on one engine over the embedded model (the default settings,
// each viewer its own edit case and seed), b.N steps each. It reports
// the steps of all viewers per second, the latency of one step as a
// viewer sees it (median and 95th percentile over every viewer's steps)
// the steps per model call, the cores busy (CPU time over wall time:
// how much of the machine the model leaves idle) and the CPU time a step
// costs (what sharing a call saves, whatever else the machine runs).
func BenchmarkSharedEngine(b *testing.B) {
	for _, n := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			e, cfg := openEmbedded(b)
			start := func(i, run int) (tui.Stepper, error) {
				c := cfg
				c.Seed = uint64(i*1000 + run)
				p, err := e.sess.PromptOf(world.Generate(11, i*1000+run, world.MixEdit))
				if err != nil {
					return nil, err
				}
				return e.Start(c, p)
			}
			runs := make([]tui.Stepper, n)
			for i := range runs {
				var err error
				if runs[i], err = start(i, 0); err != nil {
					b.Fatal(err)
				}
			}
			step := func(i int, lat *[]time.Duration) {
				began := time.Now()
				if _, err := runs[i].Step(context.Background()); err != nil {
					b.Error(err)
				}
				if lat != nil {
					*lat = append(*lat, time.Since(began))
				}
			}
			var wg sync.WaitGroup
			for i := range runs { // a batch of n sizes the model's buffers
				wg.Go(func() { step(i, nil) })
			}
			wg.Wait()
			calls0, steps0 := e.batch.modelCalls.Load(), e.batch.steps.Load()
			lats := make([][]time.Duration, n)
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := range runs {
				wg.Go(func() {
					for k := range b.N {
						if runs[i].Done() {
							var err error
							if runs[i], err = start(i, k+1); err != nil {
								b.Error(err)
								return
							}
						}
						step(i, &lats[i])
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			cpu := cpuTime() - cpu0
			all := slices.Concat(lats...)
			slices.Sort(all)
			ms := func(q float64) float64 { return all[int(q*float64(len(all)-1))].Seconds() * 1000 }
			b.ReportMetric(float64(len(all))/b.Elapsed().Seconds(), "steps/s")
			b.ReportMetric(ms(0.5), "ms/step-p50")
			b.ReportMetric(ms(0.95), "ms/step-p95")
			b.ReportMetric(cpu.Seconds()/b.Elapsed().Seconds(), "cores")
			b.ReportMetric(cpu.Seconds()*1000/float64(len(all)), "cpu-ms/step")
			b.ReportMetric(float64(e.batch.steps.Load()-steps0)/float64(e.batch.modelCalls.Load()-calls0), "steps/call")
		})
	}
}
