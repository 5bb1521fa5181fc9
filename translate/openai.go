package translate

import (
	"errors"

	"github.com/aigateway-go/aigateway/provider"
)

// openAICodec is the Codec of its format. (A stub: its helper replaces this file.)
type openAICodec struct{}

var errStubopenAI = errors.New("translate: not implemented yet")

func (openAICodec) Format() provider.Format                             { return provider.FormatUnknown }
func (openAICodec) DecodeRequest([]byte, RequestMeta) (*Request, error) { return nil, errStubopenAI }
func (openAICodec) EncodeRequest(*Request, string) ([]byte, error)      { return nil, errStubopenAI }
func (openAICodec) DecodeResponse([]byte) (*Response, error)            { return nil, errStubopenAI }
func (openAICodec) EncodeResponse(*Response) ([]byte, error)            { return nil, errStubopenAI }
func (openAICodec) NewStreamDecoder() StreamDecoder                     { return nil }
func (openAICodec) NewStreamEncoder(*Request) StreamEncoder             { return nil }
func (openAICodec) EncodeError(*provider.Error) []byte                  { return nil }
