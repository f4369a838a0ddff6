// Package userspec reads USER values (user[:group]).
package userspec
