{{ brand_rollup('week') }}
