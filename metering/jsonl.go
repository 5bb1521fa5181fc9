package metering

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"

	"github.com/aigateway-go/aigateway/internal/durjson"
)

var _ Sink = (*JSONLSink)(nil)

// ErrSinkClosed is returned by a sink's Write after its Close.
var ErrSinkClosed = errors.New("metering: sink closed")

const (
	defaultJSONLMaxBytes   = 100 << 20
	defaultJSONLMaxBackups = 5
	maxKeptLineBuffer      = 1 << 20
)

// JSONLOptions configures a JSONLSink. The zero value is usable.
type JSONLOptions struct {
	// MaxBytes is the size a log file may reach before it is rotated: a
	// record that would take the file past it goes to a fresh file. A
	// single record larger than MaxBytes is still written, alone in its
	// file. Zero means 100 MiB.
	MaxBytes int64 `json:"max_bytes,omitempty"`
	// MaxBackups is how many rotated files are kept, as path.1 (newest)
	// through path.N (oldest); older ones are removed. Zero means 5.
	MaxBackups int `json:"max_backups,omitempty"`
	// Sync makes every Write fsync the file before it returns, so a
	// record survives a power loss, not only a crash of the process.
	Sync bool `json:"sync,omitempty"`
}

// JSONLSink is a Sink appending one JSON object per line (a *Record as
// encoding/json writes it) to a file, rotating it by size.
//
// Durability: each Write hands its line to the operating system before it
// returns (one write(2) per record), so a record whose Write returned nil
// survives a crash or kill of the process; with JSONLOptions.Sync it is
// also fsynced before Write returns, and survives a power loss. Nothing is
// held in user space between Writes, so Close only closes the file. (A
// user-space buffer would save about 0.7µs per record, off the request
// path, at the price of losing up to a buffer of records in a crash.) A
// line is never split across files.
//
// The meter calls a sink from one goroutine, so a JSONLSink needs no
// concurrency; its methods hold a mutex anyway, so Close may come from a
// shutdown goroutine while the meter is writing, and calls from different
// goroutines are race-free. Write ignores its context: a record being
// written at shutdown is still written.
type JSONLSink struct {
	path       string
	maxBytes   int64
	maxBackups int
	sync       bool

	mu     sync.Mutex
	f      *os.File     // nil after Close, or after a failed reopen
	size   int64        // bytes in the current file
	line   bytes.Buffer // the record being written, encoded
	enc    *json.Encoder
	closed bool
}

// NewJSONLSink opens path for appending, creating it with mode 0600 if it
// does not exist; its directory must exist. An existing file is continued,
// and rotated at the first Write that would take it past MaxBytes.
func NewJSONLSink(path string, opts JSONLOptions) (*JSONLSink, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = defaultJSONLMaxBytes
	}
	if opts.MaxBackups <= 0 {
		opts.MaxBackups = defaultJSONLMaxBackups
	}
	s := &JSONLSink{
		path:       path,
		maxBytes:   opts.MaxBytes,
		maxBackups: opts.MaxBackups,
		sync:       opts.Sync,
	}
	s.enc = json.NewEncoder(&s.line)
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

// Write appends r as one line, rotating the file first if the line would
// take it past MaxBytes. If rotating fails but path can be reopened, the
// record is still appended to it (the file then grows past MaxBytes) and
// the rotation error is returned. Errors name the file, never the record's contents.
func (s *JSONLSink) Write(_ context.Context, r *Record) error {
	if r == nil {
		return fmt.Errorf("metering: jsonl %s: nil record", s.path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("metering: jsonl %s: %w", s.path, ErrSinkClosed)
	}

	s.line.Reset()
	// The mirror is written as r.MarshalJSON writes r, without the second
	// pass encoding/json makes over a MarshalJSON's output.
	if err := s.enc.Encode(durjson.Mirror(r)); err != nil {
		// Only an unencodable value gets here (a NaN cost); the
		// encoder's message names the type, not the contents.
		return fmt.Errorf("metering: jsonl %s: encoding record: %w", s.path, err)
	}
	n := int64(s.line.Len())

	if s.f == nil { // a reopen after rotating failed: try again
		if err := s.open(); err != nil {
			return err
		}
	}
	var rotErr error
	if s.size > 0 && s.size+n > s.maxBytes {
		rotErr = s.rotate()
		if s.f == nil {
			return rotErr
		}
	}
	written, err := s.f.Write(s.line.Bytes())
	s.size += int64(written)
	if s.line.Cap() > maxKeptLineBuffer {
		s.line = bytes.Buffer{} // do not pin one huge record's buffer
	}
	if err != nil {
		return errors.Join(rotErr, s.fileErr("writing", err))
	}
	if s.sync {
		if err := s.f.Sync(); err != nil {
			return errors.Join(rotErr, s.fileErr("syncing", err))
		}
	}
	return rotErr
}

// Close closes the file; every record a Write accepted is already in it.
// It is idempotent: later calls return nil. Write after Close returns an
// error wrapping ErrSinkClosed.
func (s *JSONLSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.closeFile()
}

// open opens (or creates) s.path for appending and learns its size.
func (s *JSONLSink) open() error {
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("metering: jsonl: %w", err) // a PathError: it names the file
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("metering: jsonl: %w", err)
	}
	s.f, s.size = f, fi.Size()
	return nil
}

func (s *JSONLSink) closeFile() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	if err != nil {
		return s.fileErr("closing", err)
	}
	return nil
}

// rotate closes the current file, shifts path.i to path.i+1 (dropping
// path.N) and path to path.1, and opens a fresh path. If a step fails it
// still reopens path, so the record at hand can be written, and returns the
// error; s.f is nil only when the reopen failed.
func (s *JSONLSink) rotate() error {
	err := s.closeFile()
	if err == nil {
		if serr := s.shift(); serr != nil {
			err = fmt.Errorf("metering: jsonl %s: rotating: %w", s.path, serr)
		}
	}
	return errors.Join(err, s.open())
}

func (s *JSONLSink) shift() error {
	backup := func(i int) string { return s.path + "." + strconv.Itoa(i) }
	// Removing first matters where rename does not replace (Windows).
	if err := os.Remove(backup(s.maxBackups)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for i := s.maxBackups - 1; i >= 1; i-- {
		if err := os.Rename(backup(i), backup(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return os.Rename(s.path, backup(1))
}

func (s *JSONLSink) fileErr(op string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("metering: jsonl: %s: %w", op, err)
	}
	return fmt.Errorf("metering: jsonl %s: %s: %w", s.path, op, err)
}
