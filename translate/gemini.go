package translate

import (
	"errors"

	"github.com/aigateway-go/aigateway/provider"
)

// geminiCodec is the Codec of its format. (A stub: its helper replaces this file.)
type geminiCodec struct{}

var errStubgemini = errors.New("translate: not implemented yet")

func (geminiCodec) Format() provider.Format                             { return provider.FormatUnknown }
func (geminiCodec) DecodeRequest([]byte, RequestMeta) (*Request, error) { return nil, errStubgemini }
func (geminiCodec) EncodeRequest(*Request, string) ([]byte, error)      { return nil, errStubgemini }
func (geminiCodec) DecodeResponse([]byte) (*Response, error)            { return nil, errStubgemini }
func (geminiCodec) EncodeResponse(*Response) ([]byte, error)            { return nil, errStubgemini }
func (geminiCodec) NewStreamDecoder() StreamDecoder                     { return nil }
func (geminiCodec) NewStreamEncoder(*Request) StreamEncoder             { return nil }
func (geminiCodec) EncodeError(*provider.Error) []byte                  { return nil }
