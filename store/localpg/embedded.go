package localpg

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	embeddedpostgres "github.com/fergusstrange/embedded-postgres"
)

// embeddedPort is where the downloaded server listens (loopback only).
const embeddedPort = 54329

// startEmbedded is the last resort when the machine has no PostgreSQL: it
// downloads the official binaries. If that fails too, the error names the
// three ways out.
func startEmbedded(ctx context.Context, dir string, cause error) (*Server, error) {
	if os.Geteuid() == 0 {
		return nil, noPostgres(cause, fmt.Errorf("the downloaded PostgreSQL cannot run as root"))
	}
	cfg := embeddedpostgres.DefaultConfig().
		Port(embeddedPort).
		DataPath(filepath.Join(dir, "pgdata-embedded")).
		RuntimePath(filepath.Join(dir, "runtime")).
		BinariesPath(filepath.Join(dir, "binaries")).
		Logger(nil)
	db := embeddedpostgres.NewDatabase(cfg)
	if err := db.Start(); err != nil {
		return nil, noPostgres(cause, err)
	}
	return &Server{DataDir: filepath.Join(dir, "pgdata-embedded"), embedded: db, done: make(chan error)}, nil
}

func noPostgres(cause, fallback error) error {
	return fmt.Errorf("%v, and downloading PostgreSQL failed (%v). Either install PostgreSQL (apt-get install postgresql, brew install postgresql), set DATABASE_URL to a server you run, or run `docker compose up` to use the bundled compose file", cause, fallback)
}
