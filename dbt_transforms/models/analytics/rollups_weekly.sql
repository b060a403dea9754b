{{ rollup('week') }}
