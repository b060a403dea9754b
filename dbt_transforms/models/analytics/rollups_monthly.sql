{{ rollup('month') }}
