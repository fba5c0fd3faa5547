package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"go.uber.org/goleak"
	gossh "golang.org/x/crypto/ssh"

	"parascope/engine/nn"
	"parascope/engine/sample"
	psession "parascope/engine/session"
	"parascope/engine/world"
	"parascope/tui"
	"parascope/tui/local"
)

// viewer is the viewer of a small untrained model on ShapeWorld's first
// edit, paged as the command's is.
func viewer(t *testing.T) tui.Options {
	t.Helper()
	cfg := sample.Defaults()
	cfg.Model, cfg.Clip, cfg.Steps = "random:1", "none", 8
	sess, err := psession.Open(cfg, nn.CPU{})
	if err != nil {
		t.Fatal(err)
	}
	caseAt := func(i int) world.Case { return world.Generate(cfg.Seed, i, world.MixEdit) }
	c := caseAt(0)
	p, err := sess.PromptOf(c)
	if err != nil {
		t.Fatal(err)
	}
	return tui.Options{Engine: local.New(sess), Vocab: sess.Template, Codebook: sess.Images, Config: cfg,
		Prompt: p, Case: &c, Input: &c.Input, CaseAt: caseAt}
}

func newSigner(t testing.TB) gossh.Signer {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// syncBuffer collects a session's output as it arrives.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return ansi.Strip(b.b.String())
}

type fixture struct {
	t      *testing.T
	srv    *Server
	addr   string
	client gossh.Signer // an authorized key
	log    *syncBuffer
	export string
	done   chan error
	engine *local.Engine // the sessions' shared engine, closed at shutdown
}

// start serves the viewer on an ephemeral port of 127.0.0.1.
func start(t *testing.T, edit func(*Config)) *fixture {
	t.Helper()
	dir := t.TempDir()
	host, err := HostKey(filepath.Join(dir, "host_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, client: newSigner(t), log: &syncBuffer{}, export: filepath.Join(dir, "exports"), done: make(chan error, 1)}
	o := viewer(t)
	f.engine = o.Engine.(*local.Engine)
	cfg := Config{Viewer: o, HostKey: host, Keys: []gossh.PublicKey{f.client.PublicKey()}, ExportDir: f.export, Log: f.log}
	if edit != nil {
		edit(&cfg)
	}
	if f.srv, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	go func() { f.done <- f.srv.Serve(l) }()
	t.Cleanup(func() { f.shutdown() })
	return f
}

func (f *fixture) shutdown() {
	f.t.Helper()
	if f.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		f.t.Errorf("shutdown: %v", err)
	}
	if err := <-f.done; err != nil {
		f.t.Errorf("serve: %v", err)
	}
	f.engine.Close()
	f.srv = nil
}

func (f *fixture) dial(auth ...gossh.AuthMethod) (*gossh.Client, error) {
	if len(auth) == 0 {
		auth = []gossh.AuthMethod{gossh.PublicKeys(f.client)}
	}
	return gossh.Dial("tcp", f.addr, &gossh.ClientConfig{User: "me", Auth: auth,
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
}

// viewerSession is a client's session with a pty and the viewer in it.
type viewerSession struct {
	t      *testing.T
	client *gossh.Client
	sess   *gossh.Session
	in     io.WriteCloser
	out    *syncBuffer
	done   chan error
}

func (f *fixture) open() *viewerSession {
	f.t.Helper()
	c, err := f.dial()
	if err != nil {
		f.t.Fatal(err)
	}
	s, err := c.NewSession()
	if err != nil {
		f.t.Fatal(err)
	}
	v := &viewerSession{t: f.t, client: c, sess: s, out: &syncBuffer{}, done: make(chan error, 1)}
	s.Stdout, s.Stderr = v.out, v.out
	if v.in, err = s.StdinPipe(); err != nil {
		f.t.Fatal(err)
	}
	if err := s.RequestPty("xterm-256color", 40, 120, gossh.TerminalModes{}); err != nil {
		f.t.Fatal(err)
	}
	if err := s.Shell(); err != nil {
		f.t.Fatal(err)
	}
	go func() { v.done <- s.Wait() }()
	return v
}

// waitFor waits until the output holds text, resizing the window now and
// then with resize: the renderer writes only what changed, and a resize
// repaints it all.
func (v *viewerSession) waitFor(text string, resize bool) {
	v.t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for w := 120; time.Now().Before(deadline); w ^= 1 {
		if strings.Contains(v.out.String(), text) {
			return
		}
		if resize {
			_ = v.sess.WindowChange(40, w)
		}
		time.Sleep(100 * time.Millisecond)
	}
	v.t.Fatalf("no %q in the session's output:\n%s", text, tail(v.out.String()))
}

func (v *viewerSession) wait() error {
	v.t.Helper()
	select {
	case err := <-v.done:
		v.client.Close()
		return err
	case <-time.After(8 * time.Second):
		v.t.Fatalf("the session did not end:\n%s", tail(v.out.String()))
		return nil
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

// A session with a pty gets the viewer: it shows step 0, steps on
// space, and q ends it; the server logs the session.
func TestViewerOverSSH(t *testing.T) {
	f := start(t, nil)
	v := f.open()
	v.waitFor("step 0/8", false)
	io.WriteString(v.in, " ")
	v.waitFor("step 1/8", true)
	io.WriteString(v.in, "q")
	if err := v.wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	f.shutdown()
	log := f.log.String()
	if !strings.Contains(log, Fingerprint(f.client.PublicKey())) || !strings.Contains(log, "127.0.0.1:") || !strings.Contains(log, " 1 steps (quit)") {
		t.Fatalf("log %q", log)
	}
}

// A key not in the authorized keys, a password, and nothing at all are
// refused.
func TestOnlyAuthorizedKeys(t *testing.T) {
	f := start(t, nil)
	if c, err := f.dial(gossh.PublicKeys(newSigner(t))); err == nil {
		c.Close()
		t.Fatal("a stranger's key was let in")
	}
	if c, err := f.dial(gossh.Password("hunter2")); err == nil {
		c.Close()
		t.Fatal("a password was let in")
	}
	if c, err := f.dial(gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return nil, nil })); err == nil {
		c.Close()
		t.Fatal("keyboard-interactive was let in")
	}
}

// An address that fails too often is dropped before the handshake.
func TestFailedLoginsBlockTheAddress(t *testing.T) {
	f := start(t, func(c *Config) { c.MaxAuthFailures = 2 })
	for range 2 {
		if c, err := f.dial(gossh.PublicKeys(newSigner(t))); err == nil {
			c.Close()
			t.Fatal("a stranger's key was let in")
		}
	}
	if c, err := f.dial(); err == nil {
		c.Close()
		t.Fatal("a blocked address was let in, even with a good key")
	}
	if !strings.Contains(f.log.String(), "2 failed logins") {
		t.Fatalf("log %q", f.log.String())
	}
}

// The failure table holds each address's last few failures within the
// window, and forgets the addresses whose failures are all older.
func TestFailedLoginsAreForgotten(t *testing.T) {
	s, err := New(Config{Viewer: tui.Options{Engine: local.New(nil)}, HostKey: newSigner(t), Keys: []gossh.PublicKey{newSigner(t).PublicKey()},
		MaxAuthFailures: 3, AuthWindow: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	for i := range 100 {
		s.failed(fmt.Sprintf("10.0.0.%d", i), t0)
	}
	for range 10 {
		s.failed("10.0.1.1", t0)
	}
	if n := len(s.failures); n != 101 {
		t.Fatalf("%d addresses noted, want 101", n)
	}
	if n := len(s.failures["10.0.1.1"]); n != 3 {
		t.Fatalf("%d failures kept of one address, want the last 3", n)
	}
	s.failed("10.0.2.1", t0.Add(2*time.Minute))
	if n := len(s.failures); n != 1 {
		t.Fatalf("%d addresses noted after the window, want the newest one only", n)
	}
}

// A command, a session without a pty, and a session asking for the agent
// are told why and closed; forwarding is refused.
func TestOnlyTheViewer(t *testing.T) {
	f := start(t, nil)
	c, err := f.dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, _ := c.NewSession()
	out, err := s.CombinedOutput("cat /etc/passwd")
	if err == nil || !strings.Contains(string(out), "not commands") || strings.Contains(string(out), "root:") {
		t.Fatalf("exec: %v %q", err, out)
	}
	s, _ = c.NewSession()
	b := &syncBuffer{}
	s.Stdout, s.Stderr = b, b
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(); err == nil || !strings.Contains(b.String(), "needs a terminal") {
		t.Fatalf("no pty: %v %q", err, b.String())
	}
	s, _ = c.NewSession()
	if ok, _ := s.SendRequest("auth-agent-req@openssh.com", true, nil); ok {
		s.RequestPty("xterm", 24, 80, nil)
		b = &syncBuffer{}
		s.Stdout, s.Stderr = b, b
		s.Shell()
		if err := s.Wait(); err == nil || !strings.Contains(b.String(), "agent forwarding") {
			t.Fatalf("agent: %v %q", err, b.String())
		}
	}
	if ok, _, _ := c.SendRequest("tcpip-forward", true, gossh.Marshal(struct {
		Addr string
		Port uint32
	}{"127.0.0.1", 0})); ok {
		t.Fatal("remote forwarding was accepted")
	}
	if conn, err := c.Dial("tcp", f.addr); err == nil {
		conn.Close()
		t.Fatal("local forwarding was accepted")
	}
	s, _ = c.NewSession()
	if ok, _ := s.SendRequest("x11-req", true, gossh.Marshal(struct {
		Single        bool
		Proto, Cookie string
		Screen        uint32
	}{false, "MIT-MAGIC-COOKIE-1", "00", 0})); ok {
		t.Fatal("X11 forwarding was accepted")
	}
	s.Close()
}

// The host key is made once, 0600, and read again on the next start; a
// key others can read is refused, naming the file.
func TestHostKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "host")
	a, err := HostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", st.Mode(), err)
	}
	b, err := HostKey(path)
	if err != nil || !bytes.Equal(a.PublicKey().Marshal(), b.PublicKey().Marshal()) {
		t.Fatalf("a second start made another key (%v)", err)
	}
	os.Chmod(path, 0o644)
	if _, err := HostKey(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("a world-readable key: %v", err)
	}
}

// The engine seen over SSH exports only into the key's folder and
// refuses jobs unless they are allowed.
func TestSessionEngine(t *testing.T) {
	o := viewer(t)
	dir := filepath.Join(t.TempDir(), "SHA256_x")
	e := sessionEngine{Engine: o.Engine, exportDir: dir, steps: new(atomic.Int64)}
	run, err := e.Start(o.Config, o.Prompt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.steps.Load() != 1 {
		t.Fatalf("%d steps counted", e.steps.Load())
	}
	paths, err := e.Export(tui.Trajectory{Frames: run.History(), Steps: 8, Model: e.Model(), Config: o.Config, Prompt: o.Prompt}, "/tmp")
	if err != nil || len(paths) == 0 {
		t.Fatal(paths, err)
	}
	for _, p := range paths {
		if filepath.Dir(p) != dir {
			t.Fatalf("export %s outside %s", p, dir)
		}
	}
	if _, err := e.TrainSFT(context.Background(), nil, 1, nil); !errors.Is(err, ErrJobsRefused) {
		t.Fatalf("sft: %v", err)
	}
	if _, err := e.TrainParaRL(context.Background(), 1, nil); !errors.Is(err, ErrJobsRefused) {
		t.Fatalf("pararl: %v", err)
	}
	if err := e.Switch("x"); !errors.Is(err, ErrJobsRefused) {
		t.Fatalf("switch: %v", err)
	}
}

// Eight viewers step at once; some of them, drawn by a seeded draw, drop
// their connection at a random moment mid-run without a goodbye. The
// others finish their steps and quit, a newcomer is still served, every
// session leaves one log line saying how it ended, and the server leaves
// no goroutine behind.
func TestConcurrentSessionsLeaveNothingBehind(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	f := start(t, func(c *Config) { c.MaxPerKey = 9 })
	r := mathrand.New(mathrand.NewPCG(21, 1))
	vs, drop := make([]*viewerSession, 8), make([]bool, 8)
	dropped := 0
	for i := range vs {
		vs[i] = f.open()
		drop[i] = i == 0 || i != 1 && r.IntN(2) == 0 // one of each at least
		if drop[i] {
			dropped++
		}
	}
	var gone sync.WaitGroup
	for i, v := range vs {
		v.waitFor("step 0/8", false)
		io.WriteString(v.in, "    ") // steps queue while one is in flight
		if drop[i] {
			after := time.Duration(r.IntN(40)) * time.Millisecond
			gone.Go(func() { time.Sleep(after); v.client.Close() })
		}
	}
	for i, v := range vs {
		if drop[i] {
			continue
		}
		v.waitFor("step 4/8", true)
		io.WriteString(v.in, "q")
		if err := v.wait(); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
	gone.Wait()
	v := f.open()
	v.waitFor("step 0/8", false)
	io.WriteString(v.in, "q")
	v.wait()
	f.shutdown()
	log := f.log.String()
	if n := strings.Count(log, "\n"); n != len(vs)+1 {
		t.Errorf("%d log lines for %d sessions:\n%s", n, len(vs)+1, log)
	}
	if n := strings.Count(log, "(disconnected)"); n != dropped {
		t.Errorf("%d sessions logged as disconnected, %d dropped:\n%s", n, dropped, log)
	}
	if n := strings.Count(log, "(quit)"); n != len(vs)+1-dropped {
		t.Errorf("%d sessions logged as quit, want %d:\n%s", n, len(vs)+1-dropped, log)
	}
	goleak.VerifyNone(t, ignore)
}

// The server's limits: sessions in all and per key, and idle time.
func TestLimits(t *testing.T) {
	f := start(t, func(c *Config) { c.MaxPerKey, c.Idle = 1, 300*time.Millisecond })
	a := f.open()
	a.waitFor("step 0/8", false)
	b := f.open()
	if err := b.wait(); err == nil || !strings.Contains(b.out.String(), "1 sessions open already") {
		t.Fatalf("second session: %v %q", err, b.out.String())
	}
	if err := a.wait(); err == nil || !strings.Contains(a.out.String(), "idle for 300ms") {
		t.Fatalf("idle session: %v %q", err, tail(a.out.String()))
	}
	f.shutdown()
	if log := f.log.String(); !strings.Contains(log, "(idle for 300ms: closing)") {
		t.Fatalf("log %q", log)
	}
}

// Shutdown tells a session the server is going, and closes it.
func TestShutdownTellsSessions(t *testing.T) {
	f := start(t, nil)
	v := f.open()
	v.waitFor("step 0/8", false)
	f.shutdown()
	if err := v.wait(); err == nil || !strings.Contains(v.out.String(), "server shutting down") {
		t.Fatalf("%v %q", err, tail(v.out.String()))
	}
}

// The viewer's x key over SSH writes into the key's own folder.
func TestExportGoesToTheKeysFolder(t *testing.T) {
	f := start(t, nil)
	v := f.open()
	v.waitFor("step 0/8", false)
	io.WriteString(v.in, " x")
	v.waitFor("exported", true)
	io.WriteString(v.in, "q")
	v.wait()
	dir := filepath.Join(f.export, Folder(f.client.PublicKey()))
	got, err := filepath.Glob(filepath.Join(f.export, "*", "trajectory-*.jsonl"))
	if err != nil || len(got) != 1 || filepath.Dir(got[0]) != dir {
		t.Fatalf("exports %q, want one in %s", got, dir)
	}
}

// A key's folder name is its fingerprint with nothing a path could take
// apart.
func TestFolderName(t *testing.T) {
	for range 20 {
		k := newSigner(t).PublicKey()
		name := Folder(k)
		if !strings.HasPrefix(name, "SHA256_") || strings.ContainsAny(name, `/\:+=. `) || filepath.Base(name) != name {
			t.Fatalf("%q for %s", name, Fingerprint(k))
		}
	}
}

// An authorized_keys file with no key in it is refused; comments and
// blank lines are skipped.
func TestAuthorizedKeysFile(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("# nobody\n\n"), 0o600)
	if _, err := AuthorizedKeys(empty); err == nil || !strings.Contains(err.Error(), "no public key") {
		t.Fatalf("empty file: %v", err)
	}
	a, b := newSigner(t).PublicKey(), newSigner(t).PublicKey()
	two := filepath.Join(dir, "two")
	os.WriteFile(two, append(append([]byte("# team\n"), gossh.MarshalAuthorizedKey(a)...), gossh.MarshalAuthorizedKey(b)...), 0o600)
	keys, err := AuthorizedKeys(two)
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[1].Marshal(), b.Marshal()) {
		t.Fatalf("%d keys, %v", len(keys), err)
	}
}

// --max-sessions bounds the sessions of every key together.
func TestMaxSessions(t *testing.T) {
	other := newSigner(t)
	f := start(t, func(c *Config) { c.MaxSessions, c.Keys = 1, append(c.Keys, other.PublicKey()) })
	a := f.open()
	a.waitFor("step 0/8", false)
	f.client = other
	b := f.open()
	if err := b.wait(); err == nil || !strings.Contains(b.out.String(), "the server is full (1 sessions)") {
		t.Fatalf("second session: %v %q", err, b.out.String())
	}
	io.WriteString(a.in, "q")
	if err := a.wait(); err != nil {
		t.Fatal(err)
	}
	// Room again, once the server has counted the first one out (just
	// after it told the client).
	for range 50 {
		c := f.open()
		for !strings.Contains(c.out.String(), "step 0/8") {
			select {
			case <-c.done: // refused: still full
				c.client.Close()
				c = nil
			case <-time.After(20 * time.Millisecond):
				continue
			}
			break
		}
		if c == nil {
			continue
		}
		io.WriteString(c.in, "q")
		c.wait()
		return
	}
	t.Fatal("the server stayed full")
}

// Two viewers on one connection (ssh's multiplexing) are two sessions,
// each with its own viewer.
func TestTwoViewersOnOneConnection(t *testing.T) {
	f := start(t, nil)
	v := f.open()
	s2, err := v.client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	w := &viewerSession{t: t, client: v.client, sess: s2, out: &syncBuffer{}, done: make(chan error, 1)}
	s2.Stdout, s2.Stderr = w.out, w.out
	if w.in, err = s2.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := s2.RequestPty("xterm", 30, 100, nil); err != nil {
		t.Fatal(err)
	}
	if err := s2.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() { w.done <- s2.Wait() }()
	v.waitFor("step 0/8", false)
	w.waitFor("step 0/8", false)
	io.WriteString(w.in, "  ")
	w.waitFor("step 2/8", true)
	io.WriteString(w.in, "q")
	if err := <-w.done; err != nil {
		t.Fatal(err)
	}
	io.WriteString(v.in, "q")
	if err := v.wait(); err != nil {
		t.Fatal(err)
	}
	f.shutdown()
	if n := strings.Count(f.log.String(), "(quit)"); n != 2 {
		t.Fatalf("log %q", f.log.String())
	}
}
