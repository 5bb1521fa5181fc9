// Package pricing turns a normalised provider.Usage into US dollars.
//
// A Table holds list prices, USD per 1M tokens, by provider (its
// gen_ai.provider.name: "openai", "anthropic", "gcp.gemini", "groq",
// "mistral_ai", "deepseek" ...) and model: input, output, cache read,
// 5-minute and 1-hour cache write, and long-context tiers. Default()
// returns the table embedded in the package (prices.json), whose every row
// names the provider's price page it was taken from and the date it was
// checked. Layers that count cost (metering, cost budgets) take a *Table in
// their Config; nil means Default().
//
// It sits beside the stack rather than in it: it knows nothing of HTTP, and
// depends only on the provider package for Usage.
//
// # Cost
//
// Table.Cost prices the usage of one upstream response for the provider
// that answered and the model it reports. A model no row prices has an
// unknown cost (ok is false), never a cost of 0. Prices a row does not
// publish are derived: for Anthropic rows, cache reads at 0.1×, 5-minute
// cache writes at 1.25× and 1-hour cache writes at 2× the input price; for
// any other provider the input price, so a missing price may overstate a
// cost but never hides it.
//
// # Model ids
//
// A model id finds its row by, in order:
//
//   - the id itself, or an alias the row lists ("claude-opus-4-0");
//   - the id without a "models/" path prefix ("models/gemini-2.5-flash");
//   - the id without a "-latest" suffix ("claude-3-7-sonnet-latest");
//   - the id without a snapshot suffix: "-2024-07-18" (OpenAI),
//     "-20251001" (Anthropic), "-001" (Gemini), so that
//     gpt-4o-mini-2024-07-18 is priced as gpt-4o-mini and
//     claude-haiku-4-5-20251001 as claude-haiku-4-5.
//
// Nothing shorter is ever tried: gpt-4o-mini is never priced as gpt-4o,
// o3-mini never as o3, and a variant without a row of its own
// (gpt-4o-mini-search-preview) stays unknown rather than borrowing its
// family's price. A snapshot whose price differs from its family's has a
// row of its own (gpt-4o-2024-05-13), which wins because exact ids come
// first.
//
// Two providers resolve through others: "azure.ai.openai" is priced like
// "openai" for the same model unless an Azure row exists, and "openrouter"
// prices "openai/gpt-4o" as the provider its prefix names ("google" for
// "gcp.gemini", "mistralai" for "mistral_ai"), with Anthropic models also
// found under OpenRouter's dotted names ("anthropic/claude-sonnet-4.5").
//
// # Adding and overriding prices
//
// Tables never change once built, so they are safe for concurrent use and
// can be shared. Table.Set returns a copy with one row added or replaced;
// Table.Merge returns a copy with another table's rows over it. Parse and
// LoadFile read the JSON format of prices.json into a standalone table:
//
//	{
//	  "openai": {
//	    "ft:gpt-4o-mini:acme": {"input": 0.30, "output": 1.20, "cache_read": 0.15}
//	  },
//	  "anthropic": {
//	    "claude-sonnet-4-5": {
//	      "input": 3, "output": 15, "cache_read": 0.30, "cache_write_5m": 3.75, "cache_write_1h": 6,
//	      "tiers": [{"above": 200000, "input": 6, "output": 22.50}]
//	    }
//	  }
//	}
//
// and Default().Merge(t) lays them over the embedded prices. Bad data (an
// unknown field, a negative price, a missing input or output price, tiers
// out of order) is an error wrapping ErrInvalid that names the provider and
// model.
package pricing
