package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/provider"
)

// keyPrefix starts every key the cache gives its Store; the version changes
// when the key or the entry format does, so old entries are never misread.
const keyPrefix = "aigateway:cache:v3:"

// keyHeaders change the answer, so they are part of the key: the ones the
// providers read (wire.AnswerHeaders), and Accept-Encoding: a caller that
// asks for gzip itself gets (and stores) compressed bytes. Their order is
// part of the key.
var keyHeaders = func() [5]string {
	h := wire.AnswerHeaders()
	return [...]string{h[0], h[1], h[2], h[3], "Accept-Encoding"}
}()

// keyBuf gathers a key's material before it is hashed in one call; pooled,
// so a key costs no allocation beyond the key string.
type keyBuf struct {
	b      []byte
	secret [2]int // where b holds the caller's credentials, in clear: cleared before b is put back
}

func (k *keyBuf) Write(p []byte) (int, error) { k.b = append(k.b, p...); return len(p), nil }

// field appends s length-prefixed, so that no field (a header value, a
// partition) can pass for another split of the same bytes.
func (k *keyBuf) field(s string) {
	k.b = binary.AppendUvarint(k.b, uint64(len(s)))
	k.b = append(k.b, s...)
}

var keyBufs = sync.Pool{New: func() any { return &keyBuf{b: make([]byte, 0, 4096)} }}

// credentials appends the credentials h and u carry, in every form the
// provider would take them (provider.Credentials, as Call.CredentialHash
// reads them), framed by their length so that they cannot pass for other
// fields. They are hashed with the rest of the key, never kept: the bytes
// are cleared before the buffer is reused.
func (k *keyBuf) credentials(h http.Header, u *url.URL) {
	at := len(k.b)
	k.b = append(k.b, 0, 0, 0, 0) // the section's length, once known
	provider.Credentials(h, u, func(name, value string) {
		k.field(name)
		k.field(value)
	})
	binary.BigEndian.PutUint32(k.b[at:], uint32(len(k.b)-at-4))
	k.secret = [2]int{at + 4, len(k.b)}
}

// release clears the credentials from the buffer and puts it back, unless
// it grew too large to keep.
func (k *keyBuf) release() {
	clear(k.b[k.secret[0]:k.secret[1]])
	k.secret = [2]int{}
	if cap(k.b) <= 1<<20 { // do not keep a huge request's buffer
		k.b = k.b[:0]
		keyBufs.Put(k)
	}
}

// keyer computes cache keys: one SHA-256 over everything that can change
// the answer, and over who may see it (the caller's credentials and the
// partition), never a secret in clear.
type keyer struct {
	partition  func(*aigateway.Call) string
	shareCreds bool

	// aliases maps a fast hash of a request as sent (its raw body) to the
	// digest of the key computed from its canonical form, so a repeated
	// request skips the canonical pass. maphash is seeded per process, so
	// nobody can aim two requests at one alias; and a hash covers every
	// part of the key, the credentials included.
	seed    maphash.Seed
	aliases *aliasIndex
}

// aliasCount bounds the alias index (40 bytes an alias: 640 KiB when full).
const aliasCount = 16 << 10

func newKeyer(cfg *Config) (*keyer, error) {
	k := &keyer{shareCreds: cfg.ShareAcrossCredentials, partition: cfg.PartitionFunc, seed: maphash.MakeSeed(),
		aliases: newAliasIndex(aliasCount)}
	if k.partition == nil && cfg.Partition != "" {
		p, err := parsePartition(cfg.Partition)
		if err != nil {
			return nil, err
		}
		k.partition = p
	}
	return k, nil
}

// parsePartition reads a partition spec: an aigateway.KeySpec of
// "metadata:NAME" terms ("metadata:tenant,metadata:region"); the
// credential is keyed apart (ShareAcrossCredentials).
func parsePartition(spec string) (func(*aigateway.Call) string, error) {
	k, err := aigateway.ParseKeySpec(spec)
	if err != nil {
		return nil, fmt.Errorf("cache: partition: %w", err)
	}
	if !k.MetadataOnly() {
		return nil, fmt.Errorf("cache: partition %q: want metadata:NAME terms only", spec)
	}
	return func(c *aigateway.Call) string {
		// Length-prefixed, so no value can pass for another split.
		var buf [4]string
		var b []byte
		for _, v := range k.AppendValues(buf[:0], c) {
			b = strconv.AppendInt(b, int64(len(v)), 10)
			b = append(append(b, ':'), v...)
		}
		return string(b)
	}, nil
}

// digest is the SHA-256 a store key is made of (see storeKey): the cache
// keeps and compares keys in this form, and writes one out only for the
// store.
type digest [sha256.Size]byte

// storeKeyLen is the length of a store key: the prefix, then the digest in
// hex.
const storeKeyLen = len(keyPrefix) + 2*sha256.Size

// appendStoreKey appends the store key of d.
func (d *digest) appendStoreKey(dst []byte) []byte {
	var h [2 * sha256.Size]byte
	for i, b := range d {
		h[2*i], h[2*i+1] = hexPairs[2*int(b)], hexPairs[2*int(b)+1]
	}
	dst = append(dst, keyPrefix...)
	return append(dst, h[:]...)
}

// hexPairs holds every byte's two lower-case hex digits, in byte order:
// the store key costs a look-up a byte, where encoding/hex spends about
// twenty instructions on each (it runs on every look-up, hits included).
const hexPairs = "" +
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" +
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f" +
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f" +
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" +
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" +
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf" +
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"

// storeKey returns the store key of d.
func (d *digest) storeKey() string {
	var buf [storeKeyLen]byte
	return string(d.appendStoreKey(buf[:0]))
}

// key returns the digest of req's store key, or ok false when the body
// cannot be read as JSON (the call then bypasses the cache).
func (k *keyer) key(call aigateway.LayerCall, req *http.Request) (key digest, ok bool) {
	m := keyBufs.Get().(*keyBuf)
	defer m.release()
	m.field(req.Method)
	m.field(call.Provider())
	m.field(call.Format().String())
	if call.Stream() {
		m.field("stream")
	} else {
		m.field("json")
	}
	if !k.shareCreds {
		// In the one SHA-256 of the key, not hashed apart first: the key
		// is the credentials' fingerprint as much as the answer's.
		m.credentials(req.Header, req.URL)
	}
	if k.partition != nil {
		m.field(k.partition(call.Call()))
	}
	if custom := call.Controls().CacheKey; custom != "" {
		m.field("custom")
		m.field(custom)
	} else {
		m.field(strings.ToLower(req.URL.Host))
		m.field(req.URL.EscapedPath())
		m.field(queryWithoutKey(req.URL.RawQuery))
		for _, name := range keyHeaders {
			// The prepared header is canonical (see aigateway's prepare),
			// and so are these names: indexing finds a name however the
			// caller wrote it, as Values would (without canonicalizing
			// the name again).
			vs := req.Header[name]
			m.b = binary.AppendUvarint(m.b, uint64(len(vs)))
			for _, v := range vs {
				m.field(v)
			}
		}
		var fast maphash.Hash
		fast.SetSeed(k.seed)
		fast.Write(m.b)
		fast.Write(call.Body())
		alias := fast.Sum64()
		if d, ok := k.aliases.get(alias); ok {
			return d, true
		}
		// The members that do not change the answer (wire.AnswerNeutral)
		// do not split the key; the stream flag is keyed on its own.
		if err := jsonscan.WriteCanonical(m, call.Body(), wire.AnswerNeutral(call.Format())); err != nil {
			return digest{}, false
		}
		d := sha256.Sum256(m.b)
		k.aliases.put(alias, d)
		return d, true
	}
	return sha256.Sum256(m.b), true
}

// queryWithoutKey drops the credentials a query carries (Gemini's ?key=,
// however its name is encoded: provider.WithoutCredentialParams; they are
// keyed by their fingerprint) and puts the rest in a stable order.
func queryWithoutKey(raw string) string {
	if raw == "" {
		return ""
	}
	raw = provider.WithoutCredentialParams(raw)
	q, err := url.ParseQuery(raw)
	if err != nil {
		return raw
	}
	return q.Encode()
}
