module github.com/acme/shop/worker

go 1.22
