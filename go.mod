module github.com/aigateway-go/aigateway

go 1.26
