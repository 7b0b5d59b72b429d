package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/coursekit/workshop/migrations"
)

// runMigrate: `workshop migrate [apply|status]`.
func runMigrate(args []string, stdout, stderr io.Writer) int {
	action := "apply"
	if len(args) > 0 && (args[0] == "apply" || args[0] == "status") {
		action, args = args[0], args[1:]
	} else if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		fmt.Fprintf(stderr, "workshop migrate: unknown action %q (expected apply or status)\n", args[0])
		return 2
	}
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	bindConfig(fs, &cfg)
	if code, ok := loadConfig(fs, &cfg, args, stderr); !ok {
		return code
	}
	ctx := context.Background()
	db, err := openDatabase(ctx, &cfg, cfg.logger(), action == "apply", true)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	st, err := migrations.Check(ctx, db.Pool)
	if err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "schema version %d (this server knows up to %d)\n", st.Current, st.Latest)
	if len(st.Pending) > 0 {
		fmt.Fprintf(stdout, "pending: %v\n", st.Pending)
	} else {
		fmt.Fprintln(stdout, "up to date")
	}
	return 0
}
