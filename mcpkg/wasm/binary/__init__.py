"""The Component Model binary format (design/mvp/Binary.md), in pure Python: `leb`
(LEB128 and names), `types` (the model), `decode` (`read_component`), `encode`
(`encode_component`); the preamble is `mcpkg.wasm.preamble`.

`read_component` splits a component into sections and decodes those that composition
needs: imports (10), exports (11), aliases (6), component instances (5), types (7,
recursively: value types, function types, component and instance types, resources) and
nested components (4, recursively). Every other section (custom, core modules, core
instances, core types, canonical functions, start, values) is kept as a raw `Section` and
copied verbatim. `encode_component` writes sections back; decoding then encoding gives the
same bytes as long as the decoded parts use minimal LEB128 integers, as every encoder does.

Malformed input, and constructs this reader does not know (newer opcodes, GC core types
inside component types), raise `InvalidArtifactError` and nothing else; no count read from
the input allocates more than the remaining bytes could hold.

Encodings checked against wasm-tools 1.262 where Binary.md and the tools disagree or where
Binary.md is silent: a `value` externdesc is `0x02 valtype` (not a value bound); a type
index used as a `valtype` is an s33 (so 65 is `c1 00`) while every other index is a u32;
extern names are `0x00 name`, `0x01 name` (legacy interface names) or `0x02 name
vec(option)` with options `0x00 implements`, `0x01 version suffix`, `0x02 external id`;
a function with no result is `0x01 0x00`; `map` is `0x63 k v`.
"""
