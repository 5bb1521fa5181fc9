package aigateway

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDurationJSON(t *testing.T) {
	var cfg struct {
		TTL  Duration `json:"ttl"`
		Wait Duration `json:"wait"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"ttl":"1h30m","wait":2.5}`), &cfg))
	assert.Equal(t, 90*time.Minute, cfg.TTL.Std())
	assert.Equal(t, 2500*time.Millisecond, cfg.Wait.Std())
	out, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.JSONEq(t, `{"ttl":"1h30m0s","wait":"2.5s"}`, string(out))
	assert.ErrorContains(t, json.Unmarshal([]byte(`{"ttl":"soon"}`), &cfg), `duration "soon"`)
	assert.Error(t, json.Unmarshal([]byte(`{"ttl":true}`), &cfg))
}
