"""扫码取号: the page a phone opens from the hall's poster QR code (`/q/<poster secret>`)."""
