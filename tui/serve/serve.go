// Package serve serves the viewer over SSH: every session with an
// authorized key gets its own viewer on its own terminal, and all of
// them share one engine (one loaded model). Only public-key logins and
// the viewer on a pty are offered: no shell, commands, forwarding or
// agent.
package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	gossh "golang.org/x/crypto/ssh"

	"parascope/tui"
)

// Config says what the server offers, and to whom.
type Config struct {
	// Viewer is every session's viewer; its Engine is shared by them all
	// and must be safe for concurrent use (tui/local's is).
	Viewer    tui.Options
	HostKey   gossh.Signer
	Keys      []gossh.PublicKey // the keys that may connect
	AllowJobs bool              // training jobs (and switching the shared model)
	ExportDir string            // a folder per key under it
	// MaxSessions and MaxPerKey bound the sessions open at once, in all
	// and per key; 0 is no bound.
	MaxSessions, MaxPerKey int
	// Idle closes a session with no input for this long; 0 never does.
	Idle time.Duration
	// MaxAuthFailures is how many failed logins an address may make in
	// AuthWindow before its connections are dropped unheard.
	MaxAuthFailures int
	AuthWindow      time.Duration
	Log             io.Writer // one line a session when it ends
}

// Server is an SSH server of viewers.
type Server struct {
	cfg Config
	srv *ssh.Server

	mu       sync.Mutex
	closing  bool
	sessions map[*session]struct{}
	perKey   map[string]int
	failures map[string][]time.Time // failed logins by remote host
	wg       sync.WaitGroup         // the sessions' handlers
}

// session is one viewer's connection.
type session struct {
	key    string // the key's SHA256 fingerprint
	remote string
	start  time.Time
	steps  atomic.Int64
	last   atomic.Int64 // the last input, in unix nanoseconds
	// ctx ends with the session (its connection may stay open).
	ctx context.Context

	mu      sync.Mutex
	program *tea.Program
	reason  string // why the server closed it; "" when the user quit
}

// stop asks the session's viewer to quit, saying why.
func (s *session) stop(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reason == "" {
		s.reason = reason
	}
	if s.program != nil {
		go s.program.Quit() // it blocks until the program reads it, or has ended
	}
}

func (s *session) why() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// New makes a server; Serve starts it.
func New(cfg Config) (*Server, error) {
	if cfg.Viewer.Engine == nil {
		return nil, errors.New("serve: no engine")
	}
	if len(cfg.Keys) == 0 {
		return nil, errors.New("serve: no authorized keys")
	}
	if cfg.HostKey == nil {
		return nil, errors.New("serve: no host key")
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.MaxAuthFailures <= 0 {
		cfg.MaxAuthFailures = 20
	}
	if cfg.AuthWindow <= 0 {
		cfg.AuthWindow = 10 * time.Minute
	}
	s := &Server{cfg: cfg, sessions: map[*session]struct{}{}, perKey: map[string]int{}, failures: map[string][]time.Time{}}
	srv, err := wish.NewServer(
		// Before anything else, or wish writes a key of its own.
		func(srv *ssh.Server) error { srv.AddHostKey(cfg.HostKey); return nil },
		ssh.PublicKeyAuth(s.authorized),
	)
	if err != nil {
		return nil, err
	}
	// No PasswordHandler or KeyboardInteractiveHandler: public keys only.
	// No forwarding callbacks or channel handlers beyond "session": the
	// library refuses every tcpip and X11 request.
	srv.Handler = s.handle
	srv.HandshakeTimeout = 30 * time.Second
	srv.ConnCallback = s.admitConn
	srv.ServerConfigCallback = func(ssh.Context) *gossh.ServerConfig {
		return &gossh.ServerConfig{MaxAuthTries: 6}
	}
	s.srv = srv
	return s, nil
}

// Serve answers connections on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.srv.Serve(l)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown tells every session the server is shutting down, waits for
// them to end until ctx is done, and then closes every connection.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for sess := range s.sessions {
		sess.stop("server shutting down")
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("shutdown: sessions still open: %w", ctx.Err())
	}
	if cerr := s.srv.Close(); err == nil && cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		err = cerr
	}
	<-done // a closed connection ends its session
	return err
}

// Fingerprint is a key's SHA256 fingerprint, as ssh-keygen -l prints it.
func Fingerprint(k gossh.PublicKey) string { return gossh.FingerprintSHA256(k) }

// Folder is the export folder's name for a key: its fingerprint with
// base64's + and / and the colon made safe in a file name.
func Folder(k gossh.PublicKey) string {
	return strings.NewReplacer(":", "_", "+", "-", "/", "_", "=", "").Replace(Fingerprint(k))
}

func (s *Server) authorized(ctx ssh.Context, key ssh.PublicKey) bool {
	for _, k := range s.cfg.Keys {
		if bytes.Equal(k.Marshal(), key.Marshal()) {
			return true
		}
	}
	s.failed(hostOf(ctx.RemoteAddr()), time.Now())
	return false
}

// failed notes a failed login from host. The table keeps the last
// MaxAuthFailures of each address within AuthWindow, and forgets the
// others' old ones as it goes: its size follows the recent failures,
// however many addresses tried long ago.
func (s *Server) failed(host string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h := range s.failures {
		s.recentFailures(h, now)
	}
	f := append(s.failures[host], now)
	s.failures[host] = f[max(len(f)-s.cfg.MaxAuthFailures, 0):]
}

// recentFailures are host's failed logins within the window; s.mu is held.
func (s *Server) recentFailures(host string, now time.Time) []time.Time {
	f := s.failures[host]
	cut := now.Add(-s.cfg.AuthWindow)
	for len(f) > 0 && f[0].Before(cut) {
		f = f[1:]
	}
	if len(f) == 0 {
		delete(s.failures, host)
		return nil
	}
	s.failures[host] = f
	return f
}

// admitConn drops a connection from an address that failed to log in too
// often lately, before the handshake.
func (s *Server) admitConn(_ ssh.Context, c net.Conn) net.Conn {
	host := hostOf(c.RemoteAddr())
	s.mu.Lock()
	n := len(s.recentFailures(host, time.Now()))
	s.mu.Unlock()
	if n >= s.cfg.MaxAuthFailures {
		fmt.Fprintf(s.cfg.Log, "parascope serve: %s dropped: %d failed logins in %v\n", c.RemoteAddr(), n, s.cfg.AuthWindow)
		return nil
	}
	return c
}

func hostOf(a net.Addr) string {
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}

// handle lets only the viewer on a pty through, within the limits, runs
// it, and logs the session when it ends.
func (s *Server) handle(sess ssh.Session) {
	se := &session{key: Fingerprint(sess.PublicKey()), remote: sess.RemoteAddr().String(), start: time.Now()}
	se.last.Store(time.Now().UnixNano())
	outcome, admitted := "quit", false
	defer func() {
		fmt.Fprintf(s.cfg.Log, "parascope serve: %s %s %s %d steps (%s)\n",
			se.key, se.remote, time.Since(se.start).Round(time.Millisecond), se.steps.Load(), outcome)
		if admitted {
			s.release(se) // after the log line, which Shutdown waits for
		}
	}()
	refuse := func(why string) {
		outcome = "refused: " + why
		wish.Fatalln(sess, "parascope: "+why)
	}
	switch {
	case len(sess.Command()) > 0 || sess.Subsystem() != "":
		refuse("this server runs only the viewer, not commands; connect with no command (ssh -p PORT HOST)")
		return
	case ssh.AgentRequested(sess):
		refuse("agent forwarding is not offered; connect without it (ssh -a)")
		return
	}
	if _, _, ok := sess.Pty(); !ok {
		refuse("the viewer needs a terminal; connect with one (ssh -t)")
		return
	}
	if why := s.admit(se); why != "" {
		refuse(why)
		return
	}
	admitted = true
	ctx, cancel := context.WithCancel(sess.Context())
	defer cancel()
	se.ctx = ctx
	if s.cfg.Idle > 0 {
		go s.watchIdle(ctx, se)
	}
	err := s.view(sess, se)
	switch why := se.why(); {
	case why != "":
		outcome = why
		wish.Fatalln(sess, "\r\nparascope: "+why)
		return
	case sess.Context().Err() != nil:
		outcome = "disconnected"
		return
	case err != nil:
		outcome = "failed: " + err.Error()
		wish.Fatalln(sess, "\r\nparascope: "+err.Error())
		return
	}
	_ = sess.Exit(0)
}

// admit counts a session in, or says why it cannot be.
func (s *Server) admit(se *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing:
		return "server shutting down"
	case s.cfg.MaxSessions > 0 && len(s.sessions) >= s.cfg.MaxSessions:
		return fmt.Sprintf("the server is full (%d sessions); try again later", s.cfg.MaxSessions)
	case s.cfg.MaxPerKey > 0 && s.perKey[se.key] >= s.cfg.MaxPerKey:
		return fmt.Sprintf("this key has %d sessions open already, the most it may", s.cfg.MaxPerKey)
	}
	s.sessions[se] = struct{}{}
	s.perKey[se.key]++
	s.wg.Add(1)
	return ""
}

func (s *Server) release(se *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, se)
	if s.perKey[se.key]--; s.perKey[se.key] <= 0 {
		delete(s.perKey, se.key)
	}
	s.wg.Done()
}

// watchIdle stops the session once it has had no input for cfg.Idle.
func (s *Server) watchIdle(ctx context.Context, se *session) {
	t := time.NewTicker(min(s.cfg.Idle/4, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if now.Sub(time.Unix(0, se.last.Load())) > s.cfg.Idle {
				se.stop(fmt.Sprintf("idle for %v: closing", s.cfg.Idle))
				return
			}
		}
	}
}

// view runs the session's viewer, the shared engine seen through this
// session's limits, on the session's terminal, until the user quits, the
// server stops it or the client goes.
func (s *Server) view(sess ssh.Session, se *session) error {
	pty, windows, _ := sess.Pty()
	o := s.cfg.Viewer
	dir := filepath.Join(s.cfg.ExportDir, Folder(sess.PublicKey()))
	o.Engine = sessionEngine{Engine: o.Engine, allowJobs: s.cfg.AllowJobs, exportDir: dir, steps: &se.steps}
	o.ExportDir = dir
	env := append(sess.Environ(), "TERM="+pty.Term)
	p, err := tui.NewProgram(o, tui.Terminal{In: activity{sess, se}, Out: sess, Env: env,
		Width: pty.Window.Width, Height: pty.Window.Height, Context: se.ctx})
	if err != nil {
		return fmt.Errorf("the viewer did not start: %w", err)
	}
	se.mu.Lock()
	stopped := se.reason != "" // stopped while it was starting
	se.program = p
	se.mu.Unlock()
	if stopped {
		return nil
	}
	go func() {
		for {
			select {
			case <-se.ctx.Done():
				return
			case w := <-windows:
				p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
			}
		}
	}()
	_, err = p.Run()
	if errors.Is(err, tea.ErrProgramKilled) { // the session's context ended it: said by the caller
		err = nil
	}
	return err
}

// activity notes when the session last sent input.
type activity struct {
	r  io.Reader
	se *session
}

func (a activity) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.se.last.Store(time.Now().UnixNano())
	}
	return n, err
}
