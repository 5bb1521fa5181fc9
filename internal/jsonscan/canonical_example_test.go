package jsonscan_test

import (
	"crypto/sha256"
	"fmt"
	"os"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
)

func ExampleWriteCanonical() {
	// Fields that do not change the answer are left out of the key.
	skip := func(key []byte) bool { return string(key) == "user" || string(key) == "stream_options" }

	a := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"caf\u00e9"}],"user":"u-1"}`)
	b := []byte(`{ "messages": [ { "content": "café", "role": "user" } ], "model": "gpt-4o", "user": "u-2" }`)

	_ = jsonscan.WriteCanonical(os.Stdout, a, skip)
	fmt.Println()

	ha, hb := sha256.New(), sha256.New()
	_ = jsonscan.WriteCanonical(ha, a, skip)
	_ = jsonscan.WriteCanonical(hb, b, skip)
	fmt.Println(string(ha.Sum(nil)) == string(hb.Sum(nil)))
	// Output:
	// {"messages":[{"content":"café","role":"user"}],"model":"gpt-4o"}
	// true
}
