package serve

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"parascope/engine/nn"
	"parascope/engine/sample"
	psession "parascope/engine/session"
	"parascope/engine/world"
	"parascope/tui"
	"parascope/tui/local"
)

// BenchmarkServeSessions is the throughput of the server as its users
// see it: 1, 2, 4 and 8 SSH clients on 127.0.0.1, each with a pty and a
// viewer of the embedded model at the defaults 'parascope serve' runs
// with (live alignment included), each pressing space for every step of
// a run, then n for a new seed, b.N runs each. The server renders every
// step to its client as it would to a terminal. It reports the steps of
// all sessions per second and the latency of a step as the viewer's
// engine call sees it (median and 95th percentile, queueing for a shared
// model call included).
func BenchmarkServeSessions(b *testing.B) {
	cfg := sample.Defaults()
	sess, err := psession.Open(cfg, nn.CPU{})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			engine := local.New(sess)
			defer engine.Close()
			timed := &timedEngine{Engine: engine}
			c := world.Generate(cfg.Seed, 0, world.MixEdit)
			p, err := sess.PromptOf(c)
			if err != nil {
				b.Fatal(err)
			}
			o := tui.Options{Engine: timed, Vocab: sess.Template, Codebook: sess.Images, Config: cfg, Prompt: p, Case: &c, Input: &c.Input, Preview: "blocks"}
			dir := b.TempDir()
			host, err := HostKey(filepath.Join(dir, "host_ed25519"))
			if err != nil {
				b.Fatal(err)
			}
			client := newSigner(b)
			srv, err := New(Config{Viewer: o, HostKey: host, Keys: []gossh.PublicKey{client.PublicKey()}, ExportDir: dir})
			if err != nil {
				b.Fatal(err)
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(l) }()
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := srv.Shutdown(ctx); err != nil {
					b.Error(err)
				}
				<-served
			}()

			keys := make([]io.Writer, n)
			for i := range keys {
				keys[i] = openBenchSession(b, l.Addr().String(), client)
			}
			// Every run is 'steps' presses of space once all sessions have
			// started it; the next starts with n.
			round := func(r int) {
				waitUntil(b, func() bool { return timed.started.Load() >= int64(n*(r+1)) })
				for _, k := range keys {
					io.WriteString(k, strings.Repeat(" ", cfg.RunSteps()))
				}
				waitUntil(b, func() bool { return timed.finished.Load() >= int64(n*(r+1)) })
				for _, k := range keys {
					io.WriteString(k, "n")
				}
			}
			round(0) // the model's buffers sized for n
			timed.reset()
			b.ResetTimer()
			for r := range b.N {
				round(r + 1)
			}
			b.StopTimer()
			lats := timed.latencies()
			if len(lats) == 0 {
				b.Fatal("no steps")
			}
			ms := func(q float64) float64 { return lats[int(q*float64(len(lats)-1))].Seconds() * 1000 }
			b.ReportMetric(float64(len(lats))/b.Elapsed().Seconds(), "steps/s")
			b.ReportMetric(ms(0.5), "ms/step-p50")
			b.ReportMetric(ms(0.95), "ms/step-p95")
		})
	}
}

// openBenchSession opens a viewer on a pty whose output the client reads
// and drops, and returns where its keys go.
func openBenchSession(b *testing.B, addr string, key gossh.Signer) io.Writer {
	b.Helper()
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "me", Auth: []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	s, err := c.NewSession()
	if err != nil {
		b.Fatal(err)
	}
	s.Stdout, s.Stderr = io.Discard, io.Discard
	in, err := s.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := s.RequestPty("xterm-256color", 40, 120, gossh.TerminalModes{}); err != nil {
		b.Fatal(err)
	}
	if err := s.Shell(); err != nil {
		b.Fatal(err)
	}
	return in
}

func waitUntil(b *testing.B, ok func() bool) {
	b.Helper()
	for deadline := time.Now().Add(2 * time.Minute); !ok(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the sessions stopped stepping")
		}
	}
}

// timedEngine times every step its viewers take, and counts the runs
// started and finished.
type timedEngine struct {
	tui.Engine
	started, finished atomic.Int64
	mu                sync.Mutex
	lat               []time.Duration
}

func (e *timedEngine) Start(cfg sample.Config, p sample.Prompt) (tui.Stepper, error) {
	s, err := e.Engine.Start(cfg, p)
	if err == nil {
		e.started.Add(1)
	}
	return timedStepper{s, e}, err
}

func (e *timedEngine) reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lat = nil
}

func (e *timedEngine) latencies() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := slices.Clone(e.lat)
	slices.Sort(out)
	return out
}

type timedStepper struct {
	tui.Stepper
	e *timedEngine
}

func (s timedStepper) Step(ctx context.Context) (sample.Frame, error) {
	began := time.Now()
	f, err := s.Stepper.Step(ctx)
	if err != nil {
		return f, err
	}
	s.e.mu.Lock()
	s.e.lat = append(s.e.lat, time.Since(began))
	s.e.mu.Unlock()
	if s.Done() {
		s.e.finished.Add(1)
	}
	return f, nil
}
