;; A core WebAssembly module (not a component): mcpkg must refuse to push or pull it.
(module (func (export "f") (result i32) i32.const 1))
