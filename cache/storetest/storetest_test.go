package storetest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/cache/storetest"
)

// mapStore is the plainest Store there is: it shows that the suite asks for
// the Store contract and nothing the memory store happens to do (it has no
// stats and no Close, and it copies on the way in and out).
type mapStore struct {
	mu sync.Mutex
	m  map[string]mapEntry
}

type mapEntry struct {
	value   []byte
	expires time.Time
}

func (s *mapStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok || !time.Now().Before(e.expires) {
		return nil, nil
	}
	return append([]byte{}, e.value...), nil
}

func (s *mapStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = mapEntry{append([]byte{}, value...), time.Now().Add(ttl)}
	return nil
}

func (s *mapStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func TestRunMapStore(t *testing.T) {
	shared := &mapStore{m: map[string]mapEntry{}} // one backend for every subtest, as a Redis store would share
	storetest.Run(t, func(*testing.T) cache.Store { return shared })
}
