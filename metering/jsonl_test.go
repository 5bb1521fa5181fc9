package metering

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/aigateway-go/aigateway/provider"
)

// jsonlTestRecord returns a fully populated record numbered i. Times are UTC and
// without a monotonic reading so that a JSON round trip is deep-equal.
func jsonlTestRecord(i int) *Record {
	return &Record{
		Time:      time.Date(2025, 6, 1, 12, 0, 0, i*1000, time.UTC),
		Provider:  "openai",
		Operation: "chat",
		Model:     "gpt-4o-mini",
		Response:  "gpt-4o-mini-2024-07-18",
		Stream:    i%2 == 0,
		Server:    "api.openai.com",
		Metadata:  map[string]string{"i": strconv.Itoa(i), "user": "u-42"},
		Usage: provider.Usage{
			InputTokens: 1200, OutputTokens: 340, CacheReadTokens: 1024,
			CacheCreationTokens: 7, CacheCreation1hTokens: 3, ReasoningTokens: 64,
		},
		UsageKnown:   true,
		Cost:         0.000123,
		CostKnown:    true,
		Status:       200,
		CacheStatus:  "miss",
		Target:       "primary",
		Attempts:     1,
		Duration:     1500 * time.Millisecond,
		TTFB:         200 * time.Millisecond,
		TTFC:         250 * time.Millisecond,
		RequestBody:  `{"model":"gpt-4o-mini"}`,
		ResponseBody: `{"id":"chatcmpl-1"}`,
	}
}

// readJSONL decodes every line of path, requiring each to be one whole
// JSON object ending in a newline.
func readJSONL(t *testing.T, path string) []*Record {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	if len(data) == 0 {
		return nil
	}
	require.True(t, bytes.HasSuffix(data, []byte("\n")), "%s ends mid-line", path)
	var out []*Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<30)
	for sc.Scan() {
		var r Record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), "%s: a line is not one JSON object", path)
		out = append(out, &r)
	}
	require.NoError(t, sc.Err())
	return out
}

func jsonlIndex(t *testing.T, r *Record) int {
	t.Helper()
	i, err := strconv.Atoi(r.Metadata["i"])
	require.NoError(t, err)
	return i
}

func openJSONLSink(t *testing.T, path string, opts JSONLOptions) *JSONLSink {
	t.Helper()
	s, err := NewJSONLSink(path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestJSONLSinkRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calls.jsonl")
	s := openJSONLSink(t, path, JSONLOptions{})
	var want []*Record
	for i := range 20 {
		r := jsonlTestRecord(i)
		if i == 3 { // an error record with unknown usage and cost
			r.Usage, r.UsageKnown, r.Cost, r.CostKnown = provider.Usage{}, false, 0, false
			r.Status, r.Error, r.ErrorType = 502, "upstream: bad gateway", "502"
		}
		want = append(want, r)
		require.NoError(t, s.Write(context.Background(), r))
	}
	require.NoError(t, s.Close())

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	dec := json.NewDecoder(f)
	var got []*Record
	for {
		var r Record
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		got = append(got, &r)
	}
	assert.Equal(t, want, got)
}

func TestJSONLSinkRotation(t *testing.T) {
	line, err := json.Marshal(jsonlTestRecord(11)) // among the longest lines written below
	require.NoError(t, err)
	maxBytes := int64(3*(len(line)+1) + 10) // three records per file, four do not fit

	tests := []struct {
		name       string
		records    int
		maxBackups int
		wantFiles  int // path plus backups
		wantAll    bool
	}{
		{name: "backups hold everything", records: 40, maxBackups: 100, wantFiles: 14, wantAll: true},
		{name: "oldest removed", records: 40, maxBackups: 3, wantFiles: 4},
		{name: "one backup", records: 10, maxBackups: 1, wantFiles: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "calls.jsonl")
			s := openJSONLSink(t, path, JSONLOptions{MaxBytes: maxBytes, MaxBackups: tt.maxBackups})
			for i := range tt.records {
				require.NoError(t, s.Write(context.Background(), jsonlTestRecord(i)))
			}
			require.NoError(t, s.Close())

			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, tt.wantFiles)
			_, err = os.Stat(fmt.Sprintf("%s.%d", path, tt.maxBackups+1))
			assert.ErrorIs(t, err, os.ErrNotExist, "a backup beyond MaxBackups is kept")

			// Oldest first: path.N ... path.1, then path.
			var got []int
			for n := tt.wantFiles - 1; n >= 0; n-- {
				name := path
				if n > 0 {
					name = fmt.Sprintf("%s.%d", path, n)
				}
				fi, err := os.Stat(name)
				require.NoError(t, err)
				assert.LessOrEqual(t, fi.Size(), maxBytes, name)
				recs := readJSONL(t, name)
				assert.NotEmpty(t, recs, name)
				for _, r := range recs {
					got = append(got, jsonlIndex(t, r))
				}
			}

			// The records kept are the newest ones, each exactly once, in order.
			first := tt.records - len(got)
			if tt.wantAll {
				assert.Zero(t, first, "records lost")
			} else {
				assert.Positive(t, first, "nothing was removed")
			}
			for k, i := range got {
				assert.Equal(t, first+k, i)
			}
		})
	}
}

func TestJSONLSinkContinuesExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calls.jsonl")
	s := openJSONLSink(t, path, JSONLOptions{})
	require.NoError(t, s.Write(context.Background(), jsonlTestRecord(0)))
	require.NoError(t, s.Close())

	fi, err := os.Stat(path)
	require.NoError(t, err)
	// Reopened with room for nothing more: the next record rotates the old file.
	s = openJSONLSink(t, path, JSONLOptions{MaxBytes: fi.Size() + 1})
	require.NoError(t, s.Write(context.Background(), jsonlTestRecord(1)))
	require.NoError(t, s.Close())

	old := readJSONL(t, path+".1")
	cur := readJSONL(t, path)
	require.Len(t, old, 1)
	require.Len(t, cur, 1)
	assert.Equal(t, 0, jsonlIndex(t, old[0]))
	assert.Equal(t, 1, jsonlIndex(t, cur[0]))
}

func TestJSONLSinkCloseLosesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calls.jsonl")
	s := openJSONLSink(t, path, JSONLOptions{})
	const n = 5000
	for i := range n {
		require.NoError(t, s.Write(context.Background(), jsonlTestRecord(i)))
	}
	require.NoError(t, s.Close())

	recs := readJSONL(t, path)
	require.Len(t, recs, n)
	for i, r := range recs {
		assert.Equal(t, i, jsonlIndex(t, r))
	}
}

func TestJSONLSinkWriteAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calls.jsonl")
	s := openJSONLSink(t, path, JSONLOptions{})
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")

	err := s.Write(context.Background(), jsonlTestRecord(0))
	require.ErrorIs(t, err, ErrSinkClosed)
	assert.Contains(t, err.Error(), path)
	assert.Empty(t, readJSONL(t, path))
}

func TestJSONLSinkErrors(t *testing.T) {
	dir := t.TempDir()

	t.Run("missing directory", func(t *testing.T) {
		path := filepath.Join(dir, "missing", "calls.jsonl")
		_, err := NewJSONLSink(path, JSONLOptions{})
		require.ErrorIs(t, err, os.ErrNotExist)
		assert.Contains(t, err.Error(), path)
	})
	t.Run("unencodable record names the file, not the record", func(t *testing.T) {
		path := filepath.Join(dir, "calls.jsonl")
		s := openJSONLSink(t, path, JSONLOptions{})
		r := jsonlTestRecord(0)
		r.Cost = math.Inf(1)
		r.RequestBody = "secret-prompt"
		err := s.Write(context.Background(), r)
		require.Error(t, err)
		assert.Contains(t, err.Error(), path)
		assert.NotContains(t, err.Error(), "secret-prompt")
		// The sink still works.
		require.NoError(t, s.Write(context.Background(), jsonlTestRecord(1)))
		require.NoError(t, s.Close())
		assert.Len(t, readJSONL(t, path), 1)
	})
	t.Run("nil record", func(t *testing.T) {
		s := openJSONLSink(t, filepath.Join(dir, "nil.jsonl"), JSONLOptions{})
		assert.Error(t, s.Write(context.Background(), nil))
	})
}

func TestJSONLSinkFilePermissions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "calls.jsonl")
	s := openJSONLSink(t, path, JSONLOptions{MaxBytes: 1, MaxBackups: 2, Sync: true})
	for i := range 4 {
		require.NoError(t, s.Write(context.Background(), jsonlTestRecord(i)))
	}
	require.NoError(t, s.Close())

	for _, name := range []string{path, path + ".1", path + ".2"} {
		fi, err := os.Stat(name)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}
}

func TestJSONLSinkRecordLargerThanMaxBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calls.jsonl")
	const maxBytes = 2048
	s := openJSONLSink(t, path, JSONLOptions{MaxBytes: maxBytes, MaxBackups: 10})

	big := jsonlTestRecord(1)
	big.ResponseBody = strings.Repeat("x", 3*maxBytes)
	for _, r := range []*Record{jsonlTestRecord(0), big, jsonlTestRecord(2)} {
		require.NoError(t, s.Write(context.Background(), r))
	}
	require.NoError(t, s.Close())

	// Each went to its own file: the big one alone, whole, in a fresh file.
	for name, want := range map[string]int{path + ".2": 0, path + ".1": 1, path: 2} {
		recs := readJSONL(t, name)
		require.Len(t, recs, 1, name)
		assert.Equal(t, want, jsonlIndex(t, recs[0]), name)
	}
	assert.Equal(t, big, readJSONL(t, path+".1")[0])
}

// TestJSONLSinkSequentialGoroutines writes from a different goroutine each
// time, handing over through a channel as the meter's queue would, and
// closes from yet another; run with -race.
func TestJSONLSinkSequentialGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(t.TempDir(), "calls.jsonl")
	s, err := NewJSONLSink(path, JSONLOptions{MaxBytes: 4096, MaxBackups: 1000})
	require.NoError(t, err)

	const n = 200
	turn := make(chan int)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			i := <-turn
			assert.NoError(t, s.Write(context.Background(), jsonlTestRecord(i)))
			if i+1 < n {
				turn <- i + 1
			}
		})
	}
	turn <- 0
	wg.Wait()
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	require.NoError(t, <-closed)

	matches, err := filepath.Glob(path + "*")
	require.NoError(t, err)
	count := 0
	for _, m := range matches {
		count += len(readJSONL(t, m))
	}
	assert.Equal(t, n, count)
}

// TestJSONLSinkCloseWhileWriting closes from another goroutine while
// writes are going on: every Write either lands or reports ErrSinkClosed.
func TestJSONLSinkCloseWhileWriting(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(t.TempDir(), "calls.jsonl")
	s, err := NewJSONLSink(path, JSONLOptions{})
	require.NoError(t, err)

	written := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			err := s.Write(context.Background(), jsonlTestRecord(i))
			if errors.Is(err, ErrSinkClosed) {
				return
			}
			assert.NoError(t, err)
			written++
		}
	}()
	time.Sleep(5 * time.Millisecond)
	require.NoError(t, s.Close())
	<-done
	assert.Len(t, readJSONL(t, path), written)
}

func BenchmarkJSONLSinkWrite(b *testing.B) {
	for _, sync := range []bool{false, true} {
		b.Run(fmt.Sprintf("sync=%v", sync), func(b *testing.B) {
			s, err := NewJSONLSink(filepath.Join(b.TempDir(), "calls.jsonl"), JSONLOptions{Sync: sync})
			require.NoError(b, err)
			defer s.Close()
			r := jsonlTestRecord(0)
			r.RequestBody, r.ResponseBody = "", ""
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Write(context.Background(), r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func ExampleNewJSONLSink() {
	dir, err := os.MkdirTemp("", "aigateway-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	path := filepath.Join(dir, "calls.jsonl")
	sink, err := NewJSONLSink(path, JSONLOptions{MaxBytes: 50 << 20, MaxBackups: 10})
	if err != nil {
		panic(err)
	}
	sink.Write(context.Background(), &Record{
		Time:      time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
		Provider:  "openai",
		Operation: "chat",
		Model:     "gpt-4o-mini",
		Status:    200,
		Attempts:  1,
		Duration:  850 * time.Millisecond,
	})
	if err := sink.Close(); err != nil {
		panic(err)
	}

	data, _ := os.ReadFile(path)
	fmt.Print(string(data))
	// Output:
	// {"time":"2025-06-01T12:00:00Z","provider":"openai","operation":"chat","model":"gpt-4o-mini","stream":false,"usage":{"input_tokens":0,"output_tokens":0},"usage_known":false,"cost_usd":0,"cost_known":false,"status":200,"attempts":1,"duration":"850ms"}
}
