package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"parascope/engine/session"
	"parascope/tui/local"
	"parascope/tui/serve"
)

// Serve serves the viewer over SSH to the keys in an authorized_keys
// file, every session on one loaded model.
func (e *Env) Serve(args []string) error {
	fs := flag.NewFlagSet("parascope serve", flag.ContinueOnError)
	listen := fs.String("listen", ":23234", "address to listen on (host:port)")
	home, _ := os.UserHomeDir()
	authorized := fs.String("authorized-keys", filepath.Join(home, ".ssh", "authorized_keys"), "the public keys that may connect (an OpenSSH authorized_keys file)")
	hostKey := fs.String("host-key", defaultHostKey(), "the server's ed25519 host key, made (mode 0600) on the first start")
	cfgPath := fs.String("config", "", "sampler config (TOML); defaults when empty")
	modelSpec, preset := modelFlags(fs)
	var src promptFlags
	src.add(fs)
	demo := fs.Bool("demo", false, "talk mode in every session: a contrast theme, a larger picture, and ShapeWorld cases played one after another")
	allowJobs := fs.Bool("allow-jobs", false, "let sessions train (s, ParaRL) and switch the shared model")
	maxSessions := fs.Int("max-sessions", 8, "sessions open at once, in all (0: no bound)")
	maxPerKey := fs.Int("max-per-key", 2, "sessions open at once per key (0: no bound)")
	idle := fs.Duration("idle", 30*time.Minute, "close a session with no input for this long (0: never)")
	exportDir := fs.String("export-dir", "exports", "folder the x key writes into, a folder per key under it")
	pos, err := e.parseFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q (see parascope help serve)", pos[0])
	}
	if *maxSessions < 0 || *maxPerKey < 0 || *idle < 0 {
		return usagef("--max-sessions, --max-per-key and --idle must not be negative")
	}
	cfg, err := loadConfig(*cfgPath, *modelSpec, *preset)
	if err != nil {
		return err
	}
	if src.given() {
		if err := src.check(); err != nil {
			return err
		}
		if err := src.load(session.IsRealModel(cfg.Model)); err != nil {
			return err
		}
	}
	keys, err := serve.AuthorizedKeys(*authorized)
	if err != nil {
		return err
	}
	host, err := serve.HostKey(*hostKey)
	if err != nil {
		return err
	}
	be, err := e.Backend()
	if err != nil {
		return err
	}
	sess, err := session.OpenOrUntrained(cfg, be)
	if err != nil {
		return err
	}
	o, err := viewerOptions(sess, cfg, &src, *demo)
	if err != nil {
		return err
	}
	engine := local.New(sess)
	defer engine.Close()
	o.Engine = engine
	srv, err := serve.New(serve.Config{Viewer: o, HostKey: host, Keys: keys, AllowJobs: *allowJobs, ExportDir: *exportDir,
		MaxSessions: *maxSessions, MaxPerKey: *maxPerKey, Idle: *idle, Log: os.Stderr})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	// Signals are caught from the moment the server says it listens.
	ctx, stop := untilInterrupt()
	defer stop()
	fmt.Fprintf(os.Stderr, "parascope serve: %s for %d key(s) on %s (host key %s)\n", sess.ModelName, len(keys), l.Addr(), serve.Fingerprint(host.PublicKey()))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(os.Stderr, "parascope serve: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; err == nil {
		err = serr
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (closed them)", err)
	}
	return err
}

// defaultHostKey is the host key's place in the user's config folder.
func defaultHostKey() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = "."
	}
	return filepath.Join(dir, "parascope", "ssh_host_ed25519_key")
}
