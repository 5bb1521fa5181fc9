package translate

import (
	"errors"

	"github.com/aigateway-go/aigateway/provider"
)

// anthropicCodec is the Codec of its format. (A stub: its helper replaces this file.)
type anthropicCodec struct{}

var errStubanthropic = errors.New("translate: not implemented yet")

func (anthropicCodec) Format() provider.Format { return provider.FormatUnknown }
func (anthropicCodec) DecodeRequest([]byte, RequestMeta) (*Request, error) {
	return nil, errStubanthropic
}
func (anthropicCodec) EncodeRequest(*Request, string) ([]byte, error) { return nil, errStubanthropic }
func (anthropicCodec) DecodeResponse([]byte) (*Response, error)       { return nil, errStubanthropic }
func (anthropicCodec) EncodeResponse(*Response) ([]byte, error)       { return nil, errStubanthropic }
func (anthropicCodec) NewStreamDecoder() StreamDecoder                { return nil }
func (anthropicCodec) NewStreamEncoder(*Request) StreamEncoder        { return nil }
func (anthropicCodec) EncodeError(*provider.Error) []byte             { return nil }
