package ratelimit_test

import (
	"testing"

	"github.com/aigateway-go/aigateway/ratelimit"
	"github.com/aigateway-go/aigateway/ratelimit/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) ratelimit.Store { return ratelimit.NewMemoryStore(0) })
}

func TestMemoryStoreConformanceShared(t *testing.T) {
	shared := ratelimit.NewMemoryStore(0) // one backend for every subtest, as a Redis store would share
	storetest.Run(t, func(*testing.T) ratelimit.Store { return shared })
}
