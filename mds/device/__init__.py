"""The reference device client: what an app does to ask MDS "anything new for me?"."""
