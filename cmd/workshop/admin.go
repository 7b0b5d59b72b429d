package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/coursekit/workshop/server"
	"github.com/coursekit/workshop/store"
)

// stdin is where admin create reads a password (a variable for tests).
var stdin io.Reader = os.Stdin

const adminUsage = `Usage:
  workshop admin create --email ADDRESS [--name NAME] [--role admin|instructor] [--password-stdin]
      create an account; the password is asked for on the terminal, or read
      from the first line of standard input with --password-stdin
  workshop admin setup-link [--role admin|instructor]
      print a one-time link (valid 24 hours) that creates an account in the browser
  workshop admin reset-link --email ADDRESS
      print a one-time link (valid 24 hours) that sets a new password for the
      account; earlier links of the account stop working

All take the server's database flags (--database-url, --data); see "workshop serve -h".
`

// runAdmin manages accounts from the command line.
func runAdmin(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, adminUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	fs := flag.NewFlagSet("admin "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	bindConfig(fs, &cfg)
	email := fs.String("email", "", "email address of the new account")
	name := fs.String("name", "", "name of the new account")
	role := fs.String("role", store.RoleAdmin, "admin or instructor")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if sub != "create" && sub != "setup-link" && sub != "reset-link" {
		fmt.Fprintf(stderr, "workshop admin: unknown command %q\n\n%s", sub, adminUsage)
		return 2
	}
	if code, ok := loadConfig(fs, &cfg, args[1:], stderr); !ok {
		return code
	}
	if *role != store.RoleAdmin && *role != store.RoleInstructor {
		fmt.Fprintln(stderr, "workshop: --role must be admin or instructor")
		return 2
	}
	ctx := context.Background()
	var err error
	switch sub {
	case "create":
		err = adminCreate(ctx, &cfg, *email, *name, *role, *fromStdin, stdout, stderr)
	case "setup-link":
		err = adminSetupLink(ctx, &cfg, *role, stdout)
	case "reset-link":
		err = adminResetLink(ctx, &cfg, *email, stdout)
	}
	if err != nil {
		return fail(stderr, err)
	}
	return 0
}

func adminCreate(ctx context.Context, cfg *Config, email, name, role string, fromStdin bool, stdout, stderr io.Writer) error {
	email = server.NormalizeEmail(email)
	if email == "" {
		return errors.New("--email is required")
	}
	if msg := server.CheckEmail(email); msg != "" {
		return fmt.Errorf("--email %q: %s", email, msg)
	}
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	pw, err := readPassword(fromStdin, stderr)
	if err != nil {
		return err
	}
	if err := server.CheckNewPassword(pw); err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, cfg.logger(), true, true)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.CreateUser(ctx, store.NewUser{Email: email, Name: name, Role: role, PasswordHash: server.HashPassword(pw)})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("an account with the email %s already exists", email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created %s account %s (id %d). Sign in at %s/signin\n", u.Role, u.Email, u.ID, adminBase(cfg))
	return nil
}

func adminSetupLink(ctx context.Context, cfg *Config, role string, stdout io.Writer) error {
	db, err := openDatabase(ctx, cfg, cfg.logger(), true, true)
	if err != nil {
		return err
	}
	defer db.Close()
	link, err := server.NewSetupLink(ctx, db.DB, adminBase(cfg), role, nil, 24*time.Hour)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "One-time link creating an %s account (valid 24 hours, works once):\n\n    %s\n", role, link)
	return nil
}

func adminResetLink(ctx context.Context, cfg *Config, email string, stdout io.Writer) error {
	email = server.NormalizeEmail(email)
	if email == "" {
		return errors.New("--email is required: the address of the account whose password to reset")
	}
	db, err := openDatabase(ctx, cfg, cfg.logger(), true, true)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no account has the email %s (the admin page lists every account)", email)
	}
	if err != nil {
		return err
	}
	link, _, err := server.NewResetLink(ctx, db.DB, adminBase(cfg), u.ID, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "One-time link setting a new password for %s (%s; valid 24 hours, works once):\n\n    %s\n", u.Email, u.Role, link)
	return nil
}

// adminBase is the server's public URL as links should show it.
func adminBase(cfg *Config) string {
	if cfg.BaseURL != "" {
		return strings.TrimSuffix(cfg.BaseURL, "/")
	}
	port := cfg.Addr[strings.LastIndex(cfg.Addr, ":")+1:]
	return "http://localhost:" + port
}

// readPassword reads the password from standard input: one line with
// --password-stdin, otherwise typed twice on the terminal without echo.
// It never comes from a flag, which other users could see in ps.
func readPassword(fromStdin bool, stderr io.Writer) (string, error) {
	r := bufio.NewReader(stdin)
	line := func() (string, error) {
		s, err := r.ReadString('\n')
		if err != nil && (err != io.EOF || s == "") {
			return "", errors.New("no password on standard input")
		}
		return strings.TrimRight(s, "\r\n"), nil
	}
	if fromStdin {
		return line()
	}
	f, ok := stdin.(*os.File)
	if !ok || !isTerminal(f) {
		return "", errors.New("standard input is not a terminal: pass the password with --password-stdin")
	}
	restore := noEcho(f)
	defer restore()
	fmt.Fprint(stderr, "Password: ")
	pw, err := line()
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(stderr, "Password again: ")
	again, err := line()
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the passwords do not match")
	}
	return pw, nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// noEcho turns terminal echo off with stty and returns how to turn it on.
func noEcho(f *os.File) func() {
	stty := func(arg string) error {
		cmd := exec.Command("stty", arg)
		cmd.Stdin = f
		return cmd.Run()
	}
	if stty("-echo") != nil {
		return func() {}
	}
	return func() { _ = stty("echo") }
}
