{{ rollup('day') }}
