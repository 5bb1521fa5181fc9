package jsonscan_test

import (
	"fmt"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
)

func ExampleMembers() {
	it := jsonscan.Members([]byte(`{"model":"gpt-4o","stream":true,"max_tokens":64}`))
	for it.Next() {
		fmt.Printf("%s = %s\n", it.Key(), it.Value())
	}
	fmt.Println(it.Err())
	// Output:
	// model = "gpt-4o"
	// stream = true
	// max_tokens = 64
	// <nil>
}

func ExampleCapturer() {
	var c jsonscan.Capturer
	c.Reset(0, []string{"usage"})
	c.Write([]byte(`{"data":[0.1,0.2],"usage":{"prompt_`))
	c.Write([]byte(`tokens":8}}`))
	v, _ := c.Value("usage")
	n, _ := jsonscan.Int(mustGet(v, "prompt_tokens"))
	fmt.Println(n)
	// Output: 8
}

func mustGet(v []byte, path ...string) []byte {
	r, _ := jsonscan.Get(v, path...)
	return r
}
