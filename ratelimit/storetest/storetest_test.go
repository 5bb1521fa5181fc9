package storetest_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/aigateway-go/aigateway/ratelimit"
	"github.com/aigateway-go/aigateway/ratelimit/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunMemoryStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) ratelimit.Store { return ratelimit.NewMemoryStore(0) })
}
