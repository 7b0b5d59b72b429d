// Package awstest starts moto_server, a local fake of EC2, STS and IAM,
// for tests, and records what a client sends to it.
package awstest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// AccountID is moto's default account: resources created with any
// credentials that moto does not know land in it.
const AccountID = "123456789012"

// Moto is a running moto_server.
type Moto struct {
	// URL is the endpoint, http://127.0.0.1:PORT.
	URL string
	cmd *exec.Cmd
	log bytes.Buffer
}

// Start runs moto_server on a free port of 127.0.0.1 with the extra
// environment variables env ("NAME=value") and waits until it answers.
func Start(env ...string) (*Moto, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	m := &Moto{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	m.cmd = exec.Command(path, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	m.cmd.Env = append(os.Environ(), env...)
	m.cmd.Stdout, m.cmd.Stderr = &syncWriter{w: &m.log}, &syncWriter{w: &m.log}
	// Dies with the test binary even when no one calls Close.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(m.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	m.Close()
	return nil, fmt.Errorf("moto_server did not answer on %s within 30s: %s", m.URL, m.log.String())
}

// Close stops the server.
func (m *Moto) Close() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = m.cmd.Process.Kill()
		_ = m.cmd.Wait()
	}
}

var (
	sharedOnce sync.Once
	shared     *Moto
	sharedErr  error
)

// Shared is one moto_server for the whole test binary, started on first
// use; it stops when the test binary exits.
func Shared() (*Moto, error) {
	sharedOnce.Do(func() { shared, sharedErr = Start() })
	return shared, sharedErr
}

// Config is an SDK configuration that talks to this server with the given
// static credentials, in region.
func (m *Moto) Config(region, keyID, secret string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		BaseEndpoint: aws.String(m.URL),
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write implements io.Writer.
func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Request is one request a Recorder saw.
type Request struct {
	Action string     // the query API's Action parameter
	Form   url.Values // the whole form body
}

// Recorder is an HTTP server in front of a backend (moto, or a canned
// answer) that records every query-API request's form.
type Recorder struct {
	// URL is the address to give the client as its endpoint.
	URL string
	srv *httptest.Server

	mu       sync.Mutex
	requests []Request
}

// NewRecorder proxies to backend (a URL) when respond is nil, and
// otherwise answers every request with respond.
func NewRecorder(backend string, respond http.HandlerFunc) (*Recorder, error) {
	r := &Recorder{}
	var next http.Handler = respond
	if respond == nil {
		u, err := url.Parse(backend)
		if err != nil {
			return nil, err
		}
		next = httputil.NewSingleHostReverseProxy(u)
	}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		for k, v := range req.URL.Query() {
			form[k] = append(form[k], v...)
		}
		r.mu.Lock()
		r.requests = append(r.requests, Request{Action: form.Get("Action"), Form: form})
		r.mu.Unlock()
		next.ServeHTTP(w, req)
	}))
	r.URL = r.srv.URL
	return r, nil
}

// Requests returns what was recorded so far.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Close stops the recorder.
func (r *Recorder) Close() { r.srv.Close() }
