package redisserver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServerAnswersThenDiesThenComesBackEmpty(t *testing.T) {
	s := Start(t)
	_, err := s.Do("SET", "k", "v")
	require.NoError(t, err)
	got, err := s.Do("GET", "k")
	require.NoError(t, err)
	assert.Equal(t, "$1", got, "a bulk reply of one byte")

	s.Kill()
	_, err = s.Do("PING")
	assert.Error(t, err, "a killed server refuses connections")

	s.Restart()
	got, err = s.Do("GET", "k")
	require.NoError(t, err)
	assert.Equal(t, "$-1", got, "a restarted server has lost its keys")
}

func TestClusterNodeServesEverySlot(t *testing.T) {
	s := StartCluster(t)
	got, err := s.Do("CLUSTER", "COUNTKEYSINSLOT", "0")
	require.NoError(t, err)
	assert.Equal(t, ":0", got)
	got, err = s.Do("DBSIZE")
	require.NoError(t, err)
	assert.Equal(t, ":0", got, "the node is handed over empty, as Start's server is")
	_, err = s.Do("MSET", "a", "1", "b", "2")
	assert.ErrorContains(t, err, "CROSSSLOT", "keys in two slots are refused, as a Cluster does")
	_, err = s.Do("MSET", "{t}a", "1", "{t}b", "2")
	assert.NoError(t, err, "keys of one hash tag are served")
}
