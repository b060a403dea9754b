{{ brand_rollup('month') }}
