package aigateway

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeySpec(t *testing.T) {
	for _, bad := range []string{"user", "metadata:", "metadata: ", "model,,provider", "api-key"} {
		_, err := ParseKeySpec(bad)
		assert.Error(t, err, bad)
	}
	empty, err := ParseKeySpec("  ")
	require.NoError(t, err)
	assert.Zero(t, empty.Len())
	assert.True(t, empty.MetadataOnly())

	k, err := ParseKeySpec(" metadata:team , api_key,model,provider,metadata: user ")
	require.NoError(t, err)
	assert.Equal(t, 5, k.Len())
	assert.False(t, k.MetadataOnly())
	meta, err := ParseKeySpec("metadata:tenant,metadata:region")
	require.NoError(t, err)
	assert.True(t, meta.MetadataOnly())

	ctx := WithMetadata(context.Background(), "team", "search")
	_, out, err := prepare(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx), 0, false, nil)
	require.NoError(t, err)
	call := CallFrom(out.Context())
	vals := k.AppendValues(nil, call)
	assert.Equal(t, []string{"search", call.CredentialHash(), "gpt-4o-mini", "openai", ""}, vals)
	assert.NotContains(t, vals[1], "sk-test-secret", "a fingerprint, never the key")
	assert.Len(t, vals[1], 64)
}
