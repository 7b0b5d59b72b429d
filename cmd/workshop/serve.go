package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os/signal"
	"syscall"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	bindConfig(fs, &cfg)
	if code, ok := loadConfig(fs, &cfg, args, stderr); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, &cfg, stdout); err != nil {
		return fail(stderr, err)
	}
	return 0
}

// serve runs until ctx ends: in-flight requests finish, then the database
// closes and the private PostgreSQL stops.
func serve(ctx context.Context, cfg *Config, stdout io.Writer) error {
	log := cfg.logger()
	// Take the port first, so "address in use" is said before anything starts.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("cannot listen on %s: the port is already in use (stop the other program or set WORKSHOP_ADDR)", cfg.Addr)
		}
		return fmt.Errorf("cannot listen on %s: %v", cfg.Addr, err)
	}
	defer ln.Close()
	db, err := openDatabase(ctx, cfg, log, true, false)
	if err != nil {
		if ctx.Err() != nil {
			// Stopped while starting: a clean stop, not a failure.
			log.Info("stopped before the server was ready")
			return nil
		}
		return err
	}
	defer db.Close()
	if cfg.InternalURL == "" {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		cfg.InternalURL = "http://127.0.0.1:" + port
	}
	srv, err := buildServer(ctx, cfg, db.DB, log)
	if err != nil {
		return err
	}
	if err := srv.AnnounceSetup(ctx, stdout, publicURL(cfg, ln)); err != nil {
		return fmt.Errorf("first-run setup link: %w", err)
	}
	if cfg.Demo {
		if err := serveDemo(ctx, cfg, db.DB, stdout, publicURL(cfg, ln)); err != nil {
			return err
		}
	}
	// The live dashboard's listener and the regrade workers; they stop
	// with ctx, and are waited for before the database closes.
	bg, stopBackground := context.WithCancel(ctx)
	defer func() { stopBackground(); srv.Wait() }()
	if err := srv.Start(bg); err != nil {
		return err
	}
	log.Info("serving", "addr", ln.Addr().String(), "url", publicURL(cfg, ln))
	if err := srv.Serve(ctx, ln, cfg.ShutdownGrace); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("stopped")
	return nil
}

func publicURL(cfg *Config, ln net.Listener) string {
	if cfg.BaseURL != "" {
		return cfg.BaseURL
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return "http://localhost:" + port
}
