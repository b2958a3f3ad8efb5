"""Drafts: a home's events (new listing, price drop) become drafts (listing_drafts); every
draft takes one writing path (draft_writing); feedback makes a new version (revisions);
flyers on request (flyers)."""
