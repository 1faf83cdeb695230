"""Distributed crawling: workers share one frontier in Redis through scrapy-redis (the ``distributed`` extra)."""
